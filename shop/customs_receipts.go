package shop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// declStateOf is the declaration state a receipt status leads to.
func declStateOf(status int) string {
	switch {
	case status == ReturnAccepted || status == ReturnConcluded:
		return DeclAccepted
	case status == ReturnRejected:
		return DeclRejected
	case status == ReturnSendFailed || status < 0:
		return DeclFailed
	}
	return DeclReceived
}

// ApplyCustomsReceipts records receipts of the shop in ctx and applies
// them. Each receipt is stored once (a duplicate changes nothing). A
// receipt moves the declaration only if it belongs to the current attempt
// (its guid) and ranks above the one that set the state, so receipts may
// arrive late, twice or out of order. A rejection (100) moves the order to
// customs_rejected with customs' reason. Receipts of unknown orders are
// ignored. It returns how many receipts were new.
func (s *Service) ApplyCustomsReceipts(ctx context.Context, rs []Receipt) (int, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return 0, err
	}
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	n := 0
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		for _, r := range rs {
			var ids []int64
			if err := tx.Raw(`SELECT order_id FROM customs_declarations WHERE tenant_id = ? AND kind = 'order' AND order_no = ?`, tid, r.OrderNo).
				Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			d, err := loadDecl(tx, tid, ids[0], true)
			if err != nil {
				return err
			}
			res := tx.Exec(`INSERT INTO customs_receipts (tenant_id, order_id, kind, guid, return_status, return_time, return_info)
				VALUES (?, ?, 'order', ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tid, d.OrderID, r.GUID, r.Status, r.Time, r.Info)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			n++
			if r.GUID != d.GUID || d.State == DeclPending {
				continue // a receipt of an earlier attempt: kept, not applied
			}
			if d.LastStatus != nil && receiptRank(r.Status) <= receiptRank(*d.LastStatus) {
				continue
			}
			state := declStateOf(r.Status)
			if err := tx.Exec(`UPDATE customs_declarations SET state = ?, last_status = ?, last_info = ?, last_receipt_at = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'order'`, state, r.Status, r.Info, r.Time, tid, d.OrderID).Error; err != nil {
				return err
			}
			data := map[string]any{"return_status": r.Status, "return_info": r.Info, "guid": r.GUID}
			switch state {
			case DeclRejected:
				if err := s.orderTo(ctx, tx, tid, d.OrderID, OrderDeclaring, OrderCustomsRejected, "customs_rejected", data); err != nil {
					return err
				}
			case DeclAccepted, DeclFailed:
				if err := orderEvent(ctx, tx, tid, d.OrderID, "customs_order_"+state, "", "", data); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// orderTo moves the order from → to if it is in status from, else records
// the event without a status change (the order moved on meanwhile, e.g. a
// refund).
func (s *Service) orderTo(ctx context.Context, tx *gorm.DB, tid, orderID int64, from, to, kind string, data map[string]any) error {
	var st []string
	if err := tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, orderID).Scan(&st).Error; err != nil {
		return err
	}
	if len(st) == 1 && st[0] == from {
		return transition(ctx, tx, tid, orderID, from, to, kind, data, "")
	}
	return orderEvent(ctx, tx, tid, orderID, kind, "", "", data)
}

// PollCustoms fetches the receipts the agent holds for order orderID of
// the shop in ctx and applies them. It returns how many were new;
// not_found for an order without a declaration.
func (s *Service) PollCustoms(ctx context.Context, orderID int64) (int, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return 0, err
	}
	var d *declRow
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		d, err = loadDecl(tx, tid, orderID, false)
		return err
	}); err != nil {
		return 0, err
	}
	if d == nil {
		return 0, errNoDeclaration
	}
	if d.State == DeclPending {
		return 0, nil
	}
	codes, gw, err := s.customsFor(tid)
	if err != nil {
		return 0, err
	}
	rs, err := gw.Receipts(ctx, codes.EBCCode, d.OrderNo)
	if err != nil {
		return 0, err
	}
	return s.ApplyCustomsReceipts(ctx, rs)
}

var errNoDeclaration = errs.E(errs.NotFound, "customs_declaration_not_found", "this order has no customs declaration")

// CustomsReceipt is a receipt as the admin view shows it.
type CustomsReceipt struct {
	GUID         string    `json:"guid"`
	ReturnStatus int       `json:"return_status"`
	ReturnTime   time.Time `json:"return_time"`
	ReturnInfo   string    `json:"return_info"`
}

// CustomsDeclaration is one customs document of an order.
type CustomsDeclaration struct {
	Kind          string           `json:"kind"`
	OrderNo       string           `json:"order_no"`
	State         string           `json:"state"`
	Attempt       int              `json:"attempt"`
	GUID          string           `json:"guid"`
	Sends         int              `json:"sends"`
	LastStatus    *int             `json:"last_status"`
	LastInfo      string           `json:"last_info"`
	LastReceiptAt *time.Time       `json:"last_receipt_at"`
	LastError     string           `json:"last_error"`
	SentAt        *time.Time       `json:"sent_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	Receipts      []CustomsReceipt `json:"receipts"`
}

// CustomsView is the 三单 view of an order so far: the order declaration
// (null until the order is paid). Payment and waybill declarations come
// later.
type CustomsView struct {
	OrderID     int64               `json:"order_id"`
	OrderNo     string              `json:"order_no"`
	OrderStatus string              `json:"order_status"`
	Order       *CustomsDeclaration `json:"order_declaration"`
}

// Customs returns the customs view of order orderID of the shop in ctx;
// not_found for another shop's order.
func (s *Service) Customs(ctx context.Context, orderID int64) (*CustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *CustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		v, err = customsView(tx, tid, orderID)
		return err
	})
	return v, err
}

func customsView(tx *gorm.DB, tid, orderID int64) (*CustomsView, error) {
	var os []struct {
		OutTradeNo string
		Status     string
	}
	if err := tx.Raw(`SELECT out_trade_no, status FROM orders WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&os).Error; err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, errNoOrder
	}
	v := &CustomsView{OrderID: orderID, OrderNo: os[0].OutTradeNo, OrderStatus: os[0].Status}
	d, err := loadDecl(tx, tid, orderID, false)
	if err != nil || d == nil {
		return v, err
	}
	cd := &CustomsDeclaration{Kind: "order", OrderNo: d.OrderNo, State: d.State, Attempt: d.Attempt, GUID: d.GUID, Sends: d.Attempts,
		LastStatus: d.LastStatus, LastInfo: d.LastInfo, LastReceiptAt: utcPtr(d.LastReceiptAt), LastError: d.LastError,
		SentAt: utcPtr(d.SentAt), UpdatedAt: d.UpdatedAt.UTC(), Receipts: []CustomsReceipt{}}
	if err := tx.Raw(`SELECT guid, return_status, return_time, return_info FROM customs_receipts
		WHERE tenant_id = ? AND order_id = ? AND kind = 'order' ORDER BY return_time, return_status LIMIT 200`, tid, orderID).
		Scan(&cd.Receipts).Error; err != nil {
		return nil, err
	}
	for i := range cd.Receipts {
		cd.Receipts[i].ReturnTime = cd.Receipts[i].ReturnTime.UTC()
	}
	v.Order = cd
	return v, nil
}

// Redeclare queues a new attempt of an order's declaration after customs
// rejected it (or the agent refused it): a new guid, appType 2, sent by
// the declare task. 404 for another shop's order or an order without a
// declaration; 409 customs_not_rejected unless the declaration is
// rejected or failed.
func (s *Service) Redeclare(ctx context.Context, orderID int64) (*CustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *CustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var os []int64
		if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, orderID).Scan(&os).Error; err != nil {
			return err
		}
		if len(os) == 0 {
			return errNoOrder
		}
		d, err := loadDecl(tx, tid, orderID, true)
		if err != nil {
			return err
		}
		if d == nil {
			return errNoDeclaration
		}
		if d.State != DeclRejected && d.State != DeclFailed {
			return errs.E(errs.Conflict, "customs_not_rejected", "only a rejected or failed declaration can be declared again; this one is "+d.State).
				WithDetails(map[string]string{"state": d.State})
		}
		next := d.Attempt + 1
		if err := tx.Exec(`UPDATE customs_declarations SET state = 'pending', attempt = ?, guid = ?, last_status = NULL, last_info = '',
			last_error = '', updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'order'`,
			next, DeclarationGUID(tid, d.OrderNo, next), tid, orderID).Error; err != nil {
			return err
		}
		if err := orderEvent(ctx, tx, tid, orderID, "customs_redeclare_requested", "", "", map[string]any{"attempt": next}); err != nil {
			return err
		}
		if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsDeclare, Queue: outbox.QueueCritical, TenantID: tid,
			Data: customsTask{OrderID: orderID}}); err != nil {
			return err
		}
		v, err = customsView(tx, tid, orderID)
		return err
	})
	return v, err
}

// TaskCustomsPoll is the periodic task that fetches receipts of every
// declaration still waiting for customs' answer.
const TaskCustomsPoll = "customs.poll_receipts"

// PollOpenCustoms fetches and applies the receipts of up to limit
// declarations, in every shop, that were sent and not yet answered (last
// changed before before). It returns how many receipts were new; a shop
// whose agent fails does not stop the others (the error names them).
func (s *Service) PollOpenCustoms(ctx context.Context, before time.Time, limit int) (int, error) {
	var open []struct{ TenantID, OrderID int64 }
	if err := s.DB.WithContext(ctx).Raw(`SELECT tenant_id, order_id FROM customs_awaiting_receipts(?, ?)`, before, limit).Scan(&open).Error; err != nil {
		return 0, err
	}
	n := 0
	var failed []string
	for _, d := range open {
		tctx := scope.WithActor(scope.WithTenant(ctx, d.TenantID), scope.Actor{Kind: "system", ID: "customs"})
		k, err := s.PollCustoms(tctx, d.OrderID)
		n += k
		if err != nil {
			s.Log.WarnContext(ctx, "customs: polling receipts", "tenant_id", d.TenantID, "order_id", d.OrderID, "err", err)
			failed = append(failed, fmt.Sprintf("%d/%d", d.TenantID, d.OrderID))
		}
	}
	if len(failed) > 0 {
		return n, fmt.Errorf("polling customs receipts failed for %s", strings.Join(failed, ", "))
	}
	return n, nil
}
