package shop

// Customs declarations (三单对碰), first part: the order declaration
// (CEB311). A paid order gets a declaration row (pending) and a task; the
// task builds the message and posts it to the shop's declaration agent,
// which signs it with its e-port key and forwards it to customs. Receipts
// (CEB312) come back to the agent and are fetched by polling it; each is
// stored once and moves the declaration forward only (a late "2" after
// "120" changes nothing). A rejection (100) moves the order to
// customs_rejected with customs' reason; staff can then re-declare.
//
// The document id customs and the agent dedupe on is the customs order
// number (out_trade_no, or out_trade_no-N for each warehouse of an order
// shipped from several, see customs_split.go); the message guid is derived
// from it and the attempt number, so a worker that dies after sending and
// sends again sends the very same message.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// TaskCustomsDeclare sends an order's pending declaration to the agent.
const TaskCustomsDeclare = "customs.declare_order"

// Declaration states.
const (
	DeclPending  = "pending"
	DeclSent     = "sent"
	DeclReceived = "received"
	DeclAccepted = "accepted"
	DeclRejected = "rejected"
	DeclFailed   = "failed"
)

// CustomsGateway is a declaration agent, as the shop uses it. Signing and
// the DXP transport happen on the agent's side.
//
//   - Declare posts a CEB311 message. Posting the same message (same guid)
//     again is harmless. It returns invalid when the agent refuses the
//     message (the text says why), unavailable when it cannot be reached.
//   - Receipts returns every receipt the agent holds for an order so far.
type CustomsGateway interface {
	Declare(ctx context.Context, ceb311 []byte) error
	Receipts(ctx context.Context, ebcCode, orderNo string) ([]Receipt, error)
}

// HTTPCustomsGateway is a declaration agent reached over HTTP:
// POST {BaseURL}/customs-agent/v1/ceb311 (XML body) and
// GET {BaseURL}/customs-agent/v1/ceb312?ebcCode=&orderNo= (a CEB312Message).
type HTTPCustomsGateway struct {
	BaseURL string
	APIKey  string // sent as a bearer token; the sandbox does not check it
	HTTP    *http.Client
}

func (g *HTTPCustomsGateway) client() *http.Client {
	if g.HTTP != nil {
		return g.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (g *HTTPCustomsGateway) do(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	if g.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+g.APIKey)
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return nil, errs.E(errs.Unavailable, "customs_unavailable", "the customs declaration agent cannot be reached")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReceiptBytes+1))
	if err != nil {
		return nil, errs.E(errs.Unavailable, "customs_unavailable", "the customs declaration agent's answer was cut")
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, errs.E(errs.Unavailable, "customs_unavailable", fmt.Sprintf("the customs declaration agent answered %d", resp.StatusCode))
	case resp.StatusCode >= 400:
		var e struct{ Code, Message string }
		_ = json.Unmarshal(b, &e)
		if e.Message == "" {
			e.Message = fmt.Sprintf("refused with status %d", resp.StatusCode)
		}
		return nil, errs.E(errs.Invalid, "customs_refused", "the customs declaration agent refused the declaration: "+truncRunes(e.Message, 300))
	}
	return b, nil
}

// Declare implements CustomsGateway.
func (g *HTTPCustomsGateway) Declare(ctx context.Context, ceb311 []byte) error {
	_, err := g.do(ctx, http.MethodPost, strings.TrimRight(g.BaseURL, "/")+"/customs-agent/v1/ceb311", ceb311)
	return err
}

// Receipts implements CustomsGateway: the order declaration's receipts
// (GET …/ceb312), then the waybill's (…/ceb512) and the inventory list's
// (…/ceb622), all asked with the order number.
func (g *HTTPCustomsGateway) Receipts(ctx context.Context, ebcCode, orderNo string) ([]Receipt, error) {
	q := url.Values{"ebcCode": {ebcCode}, "orderNo": {orderNo}}.Encode()
	base := strings.TrimRight(g.BaseURL, "/") + "/customs-agent/v1/"
	var out []Receipt
	for _, d := range []struct {
		path, elem string
		parse      func([]byte) ([]Receipt, error)
	}{
		{"ceb312", "OrderReturn", ParseCEB312},
		{"ceb512", "LogisticsReturn", func(b []byte) ([]Receipt, error) { return ParseCEB512(b, orderNo) }},
		{"ceb622", "InventoryReturn", func(b []byte) ([]Receipt, error) { return ParseCEB622(b, orderNo) }},
	} {
		b, err := g.do(ctx, http.MethodGet, base+d.path+"?"+q, nil)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(string(b), "<"+d.elem) && !strings.Contains(string(b), ":"+d.elem) {
			continue // no receipt of this document yet
		}
		rs, err := d.parse(b)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// CustomsAgent is the declaration agent live-mode shops declare through:
// its base URL and its DXP channel id. Each shop authenticates to it with
// the agent key of its live customs credentials.
type CustomsAgent struct {
	URL   string
	DxpID string
}

var errCustomsNotConfigured = errs.E(errs.Conflict, "customs_not_configured",
	"this shop is live but has no live customs credentials: save them under Settings → Credentials → Customs (live) before declaring orders")

// customsFor is customsAgentFor for callers without a context.
func (s *Service) customsFor(tid int64) (CustomsCodes, CustomsGateway, error) {
	return s.customsAgentFor(scope.WithTenant(context.Background(), tid), tid)
}

// customsAgentFor returns the shop's customs codes and its agent. Test mode:
// codes derived from the tenant id and the sandbox agent. Live mode: the
// codes of the shop's live customs credentials and the platform's agent,
// authenticated with the shop's agent key; conflict customs_not_configured
// when the shop has no live customs credentials, unavailable when no agent
// is configured (MINISHOP_CUSTOMS_AGENT_URL).
func (s *Service) customsAgentFor(ctx context.Context, tid int64) (CustomsCodes, CustomsGateway, error) {
	lc, live, err := s.liveCustoms(ctx, tid)
	if err != nil {
		return CustomsCodes{}, nil, err
	}
	if live {
		if lc == nil {
			return CustomsCodes{}, nil, errCustomsNotConfigured
		}
		if s.CustomsAgent.URL == "" || s.CustomsAgent.DxpID == "" {
			return CustomsCodes{}, nil, errs.E(errs.Unavailable, "customs_unavailable",
				"no customs declaration agent is configured for live shops (MINISHOP_CUSTOMS_AGENT_URL, MINISHOP_CUSTOMS_AGENT_DXP_ID)")
		}
		codes := CustomsCodes{EBCCode: lc.EBCCode, EBCName: lc.EBCName, EBPCode: lc.EBPCode, EBPName: lc.EBPName, DxpID: s.CustomsAgent.DxpID,
			Office: lc.CustomsOffice, MchCustomsNo: lc.CustomsMchNo}
		return codes, &HTTPCustomsGateway{BaseURL: s.CustomsAgent.URL, APIKey: lc.AgentAPIKey}, nil
	}
	if s.SandboxURL == "" {
		return CustomsCodes{}, nil, errs.E(errs.Unavailable, "customs_unavailable", "no customs declaration agent is configured")
	}
	codes := CustomsCodes{
		EBCCode: fmt.Sprintf("SB%08d", tid%100_000_000), EBCName: fmt.Sprintf("测试电商企业%d", tid),
		EBPCode: "SBMINISHOP", EBPName: "Minishop测试平台", DxpID: "DXPSANDBOX0000001",
	}
	return codes, &HTTPCustomsGateway{BaseURL: s.SandboxURL}, nil
}

type customsTask struct {
	OrderID int64 `json:"order_id"`
}

// QueueCustoms follows an order.paid task: it writes the order's pending
// declarations, one per customs order (see SplitCustoms), and a declare
// task, once per task id (and once per customs order: a declaration's key
// is its customs order number).
func (s *Service) QueueCustoms(ctx context.Context, taskID string, data json.RawMessage) error {
	var t paidTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 || t.OutTradeNo == "" {
		return fmt.Errorf("customs: bad order.paid payload %s", data)
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.DB, taskID+"/customs", TaskCustomsDeclare, func(tx *gorm.DB) error {
		o, err := loadOrder(tx, tid, t.OrderID, 0, false)
		if err != nil {
			return err
		}
		parts, err := SplitCustoms(o)
		if err != nil {
			// Declared as one order: the declare task records why it cannot be sent.
			parts = []CustomsOrder{{OrderNo: t.OutTradeNo}}
		}
		added := int64(0)
		for _, p := range parts {
			res := tx.Exec(`INSERT INTO customs_declarations (tenant_id, order_id, kind, order_no, guid, warehouse_id) VALUES (?, ?, 'order', ?, ?, ?)
				ON CONFLICT DO NOTHING`, tid, t.OrderID, p.OrderNo, DeclarationGUID(tid, p.OrderNo, 1), p.WarehouseID)
			if res.Error != nil {
				return res.Error
			}
			added += res.RowsAffected
		}
		if added == 0 {
			return nil
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsDeclare, Queue: outbox.QueueCritical, TenantID: tid,
			Data: customsTask{OrderID: t.OrderID}})
	})
	return err
}

// declRow is a customs_declarations row (Kind is set only where the
// query selects it).
type declRow struct {
	OrderID       int64
	Kind          string
	OrderNo       string
	WarehouseID   *int64
	State         string
	Attempt       int
	GUID          string `gorm:"column:guid"`
	Attempts      int
	LastStatus    *int
	LastInfo      string
	LastReceiptAt *time.Time
	LastError     string
	SentAt        *time.Time
	UpdatedAt     time.Time
}

const declColumns = `order_id, order_no, warehouse_id, state, attempt, guid, attempts, last_status, last_info, last_receipt_at, last_error, sent_at, updated_at`

// loadDecls returns the order declarations of an order, one per customs
// order, in their numbering order.
func loadDecls(tx *gorm.DB, tid, orderID int64, lock bool) ([]declRow, error) {
	q := `SELECT ` + declColumns + ` FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind = 'order'
		ORDER BY length(order_no), order_no`
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []declRow
	if err := tx.Raw(q, tid, orderID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Kind = DocOrder
	}
	return rows, nil
}

// loadDecl returns the order declaration of customs order orderNo of an
// order, or nil.
func loadDecl(tx *gorm.DB, tid, orderID int64, orderNo string, lock bool) (*declRow, error) {
	q := `SELECT ` + declColumns + ` FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []declRow
	if err := tx.Raw(q, tid, orderID, orderNo).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	rows[0].Kind = DocOrder
	return &rows[0], nil
}

// DeclareOrder handles a customs.declare_order task: it sends each pending
// order declaration of the order (one per customs order) to the agent,
// then marks it sent and moves the order to declaring. Nothing happens for
// declarations no longer pending. A message the agent refuses marks its
// declaration failed with the reason (no retry: the same message would be
// refused again); an unreachable agent is retried by the queue (messages
// already taken are sent again with the same guid, which the agent
// dedupes).
func (s *Service) DeclareOrder(ctx context.Context, taskID string, data json.RawMessage) error {
	var t customsTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 {
		return fmt.Errorf("customs: bad payload %s", data)
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	codes, gw, err := s.customsAgentFor(ctx, tid)
	if err != nil {
		// Retried by the queue: settings can be fixed, an agent come back.
		s.recordDeclError(ctx, tid, t.OrderID, "", err)
		return err
	}
	var pending []declRow
	var o *Order
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		ds, err := loadDecls(tx, tid, t.OrderID, true)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.State == DeclPending {
				pending = append(pending, d)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if o, err = loadOrder(tx, tid, t.OrderID, 0, false); err != nil {
			return err
		}
		if o.Status == OrderRefunding || o.Status == OrderRefunded {
			// Refunded before it was declared: customs must not get it.
			nos := declNos(pending)
			pending = nil
			return tx.Exec(`UPDATE customs_declarations SET state = 'failed', last_error = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no IN ?`, "the order is "+o.Status+"; it was not declared", tid, t.OrderID, nos).Error
		}
		return tx.Exec(`UPDATE customs_declarations SET attempts = attempts + 1, updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'order'
			AND order_no IN ?`, tid, t.OrderID, declNos(pending)).Error
	})
	if err != nil || len(pending) == 0 {
		return err
	}
	buyer, err := s.OpenOrderBuyer(ctx, t.OrderID)
	if err != nil {
		return err
	}
	refused := map[string]error{}
	for _, d := range pending {
		appType := "1"
		if d.Attempt > 1 {
			appType = "2"
		}
		sub, _, err := customsOrderOf(o, d.OrderNo)
		switch {
		case err != nil && d.OrderNo == o.OutTradeNo:
			// Queued as one customs order (before orders were split, or
			// lines that do not split): declared whole, as then.
			sub, err = o, nil
		case errs.Is(err, errs.NotFound):
			err = errs.E(errs.Invalid, "customs_order", "the order's lines no longer make customs order "+d.OrderNo)
		}
		var msg *CEB311Message
		if err == nil {
			msg, err = BuildCEB311(sub, buyer, codes, d.GUID, appType, time.Now())
		}
		if err == nil {
			var b []byte
			if b, err = msg.Marshal(); err == nil {
				err = gw.Declare(ctx, b)
			}
		}
		if err != nil && !errs.Is(err, errs.Invalid) {
			s.recordDeclError(ctx, tid, t.OrderID, d.OrderNo, err)
			return err
		}
		if err != nil {
			refused[d.OrderNo] = err
		}
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskCustomsDeclare, func(tx *gorm.DB) error {
		for _, d := range pending {
			cur, err := loadDecl(tx, tid, t.OrderID, d.OrderNo, true)
			if err != nil {
				return err
			}
			if cur == nil || cur.State != DeclPending || cur.Attempt != d.Attempt {
				continue
			}
			if sendErr := refused[d.OrderNo]; sendErr != nil {
				msg := sendErr.Error()
				if e, ok := sendErr.(*errs.Error); ok {
					msg = e.Message
				}
				if err := tx.Exec(`UPDATE customs_declarations SET state = 'failed', last_error = ?, updated_at = now()
					WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`, truncRunes(msg, 500), tid, t.OrderID, d.OrderNo).Error; err != nil {
					return err
				}
				if err := orderEvent(ctx, tx, tid, t.OrderID, "customs_declaration_refused", "", "", map[string]any{"order_no": d.OrderNo,
					"reason": truncRunes(msg, 500)}); err != nil {
					return err
				}
				continue
			}
			if err := s.markSent(ctx, tx, tid, t.OrderID, cur); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

func declNos(ds []declRow) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.OrderNo
	}
	return out
}

// markSent records a declaration the agent took: sent, and the order
// moves to declaring (from paid, or from customs_rejected after a
// re-declaration, unless a document of another customs order of it is
// still rejected).
func (s *Service) markSent(ctx context.Context, tx *gorm.DB, tid, orderID int64, d *declRow) error {
	if err := tx.Exec(`UPDATE customs_declarations SET state = 'sent', sent_at = now(), last_error = '', updated_at = now()
		WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`, tid, orderID, d.OrderNo).Error; err != nil {
		return err
	}
	var st []string
	if err := tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, orderID).Scan(&st).Error; err != nil {
		return err
	}
	data := map[string]any{"order_no": d.OrderNo, "guid": d.GUID, "attempt": d.Attempt}
	if len(st) == 1 && st[0] == OrderCustomsRejected {
		var rejected int64
		if err := tx.Raw(`SELECT count(*) FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind <> 'payment'
			AND order_no <> ? AND state = 'rejected'`, tid, orderID, d.OrderNo).Scan(&rejected).Error; err != nil {
			return err
		}
		if rejected > 0 {
			return orderEvent(ctx, tx, tid, orderID, "customs_declared", "", "", data)
		}
	}
	if len(st) == 1 && CanTransition(st[0], OrderDeclaring) {
		return transition(ctx, tx, tid, orderID, st[0], OrderDeclaring, "customs_declared", data, "")
	}
	return orderEvent(ctx, tx, tid, orderID, "customs_declared", "", "", data)
}

// recordDeclError keeps the last send error of customs order orderNo's
// declaration (of every pending one of the order for "") for the admin
// view.
func (s *Service) recordDeclError(ctx context.Context, tid, orderID int64, orderNo string, cause error) {
	msg := "the declaration could not be sent; it will be retried"
	if e, ok := cause.(*errs.Error); ok {
		msg = e.Message
	}
	err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET last_error = ?, updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'order'
			AND (order_no = ? OR (? = '' AND state = 'pending'))`, truncRunes(msg, 500), tid, orderID, orderNo, orderNo).Error
	})
	if err != nil {
		s.Log.WarnContext(ctx, "customs: recording a send error", "order_id", orderID, "err", err)
	}
}

// liveCustomsCreds are the fields of a shop's live customs credentials a
// declaration needs. AgentAPIKey is a secret: never log it.
type liveCustomsCreds struct {
	EBCCode       string `json:"ebc_code"`
	EBCName       string `json:"ebc_name"`
	EBPCode       string `json:"ebp_code"`
	EBPName       string `json:"ebp_name"`
	CustomsOffice string `json:"customs_office"`
	CustomsMchNo  string `json:"customs_mch_no"`
	AgentAPIKey   string `json:"agent_api_key"`
}

// liveCustoms reports whether the shop tid is live and, if so, its live
// customs credentials (nil when it has none), read from the vault the way
// tenant.Service stores them: public fields in clear, secrets sealed under
// the tenant's data key for the purpose "credentials/live/customs".
func (s *Service) liveCustoms(ctx context.Context, tid int64) (*liveCustomsCreds, bool, error) {
	var out *liveCustomsCreds
	live := false
	err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var modes []string
		if err := tx.Raw(`SELECT mode FROM tenants WHERE id = ?`, tid).Scan(&modes).Error; err != nil {
			return err
		}
		if len(modes) != 1 || modes[0] != "live" {
			return nil
		}
		live = true
		var rows []struct {
			Public []byte
			Sealed []byte
		}
		if err := tx.Raw(`SELECT public, sealed FROM credentials WHERE tenant_id = ? AND mode = 'live' AND kind = 'customs'`, tid).
			Scan(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		var c liveCustomsCreds
		if err := json.Unmarshal(rows[0].Public, &c); err != nil {
			return fmt.Errorf("live customs credentials of tenant %d: public fields: %w", tid, err)
		}
		if len(rows[0].Sealed) > 0 && s.Keys != nil {
			plain, err := s.Keys.Open(ctx, tx, tid, "credentials/live/customs", rows[0].Sealed)
			if err != nil {
				return fmt.Errorf("opening the live customs credentials of tenant %d: %w", tid, err)
			}
			var sec map[string]string
			if err := json.Unmarshal(plain, &sec); err != nil {
				return fmt.Errorf("live customs credentials of tenant %d: sealed fields are not a JSON object", tid)
			}
			c.AgentAPIKey = sec["agent_api_key"]
		}
		if c.EBCCode == "" || c.EBPCode == "" {
			return nil
		}
		out = &c
		return nil
	})
	return out, live, err
}
