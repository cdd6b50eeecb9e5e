package shop

import (
	"context"
	"fmt"
	"sort"
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
// receipt names its customs order (the order's number, or a sub-order's
// number when the order is split) and applies to that customs order's
// documents only.
//
// An order-declaration receipt (CEB312) moves the declaration only if it
// belongs to the current attempt (its guid) and ranks above the one that
// set the state. A waybill (CEB512) or inventory-list (CEB622) receipt is
// stored and its document's state is computed again from every receipt of
// its newest message, so receipts may arrive late, twice or out of order,
// even before the order declaration's own acceptance.
//
// Then each order touched is settled (see settleCustoms): a rejection of
// any document moves the order to customs_rejected with customs' reason;
// the order moves to declared once customs accepted the order declaration
// and released the inventory list of every customs order of it and, if
// the order has a payment declaration, accepted it. Receipts of unknown
// customs orders are ignored. It returns how many receipts were new.
func (s *Service) ApplyCustomsReceipts(ctx context.Context, rs []Receipt) (int, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return 0, err
	}
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	rs = append([]Receipt(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool { return docIndex(rs[i].Kind) < docIndex(rs[j].Kind) })
	n := 0
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var touched []int64
		changes := map[int64][]docChange{}
		for _, r := range rs {
			kind := r.Kind
			if kind == "" {
				kind = DocOrder
			}
			if kind != DocOrder && kind != DocWaybill && kind != DocInventory {
				continue // payment receipts come from WeChat Pay, not the agent
			}
			var ids []int64
			if err := tx.Raw(`SELECT order_id FROM customs_declarations WHERE tenant_id = ? AND kind = 'order' AND order_no = ?`, tid, r.OrderNo).
				Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			orderID := ids[0]
			var ch *docChange
			var isNew bool
			if kind == DocOrder {
				ch, isNew, err = applyOrderReceipt(tx, tid, orderID, r)
			} else {
				ch, isNew, err = applyAgentReceipt(tx, tid, orderID, kind, r)
			}
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			n++
			if _, seen := changes[orderID]; !seen {
				touched = append(touched, orderID)
				changes[orderID] = nil
			}
			if ch != nil {
				changes[orderID] = append(changes[orderID], *ch)
			}
		}
		for _, id := range touched {
			if err := s.settleCustoms(ctx, tx, tid, id, changes[id]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func docIndex(kind string) int {
	for i, k := range CustomsDocs {
		if k == kind {
			return i
		}
	}
	return 0 // "" is the order declaration
}

// docChange is a document of a customs order whose state a receipt changed.
type docChange struct {
	Kind    string
	OrderNo string
	State   string
	Status  int
	Info    string
	GUID    string
	Attempt int
}

// applyOrderReceipt stores an order-declaration receipt and applies it to
// the declaration of its customs order if it belongs to the current
// attempt and ranks above the last one applied.
func applyOrderReceipt(tx *gorm.DB, tid, orderID int64, r Receipt) (*docChange, bool, error) {
	d, err := loadDecl(tx, tid, orderID, r.OrderNo, true)
	if err != nil || d == nil {
		return nil, false, err
	}
	res := tx.Exec(`INSERT INTO customs_receipts (tenant_id, order_id, kind, order_no, guid, return_status, return_time, return_info)
		VALUES (?, ?, 'order', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tid, orderID, d.OrderNo, r.GUID, r.Status, r.Time, r.Info)
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, false, res.Error
	}
	if r.GUID != d.GUID || d.State == DeclPending {
		return nil, true, nil // a receipt of an earlier attempt: kept, not applied
	}
	if d.LastStatus != nil && receiptRank(r.Status) <= receiptRank(*d.LastStatus) {
		return nil, true, nil
	}
	state := declStateOf(r.Status)
	if err := tx.Exec(`UPDATE customs_declarations SET state = ?, last_status = ?, last_info = ?, last_receipt_at = ?, updated_at = now()
		WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`, state, r.Status, r.Info, r.Time, tid, orderID, d.OrderNo).Error; err != nil {
		return nil, false, err
	}
	if state == d.State {
		return nil, true, nil
	}
	return &docChange{Kind: DocOrder, OrderNo: d.OrderNo, State: state, Status: r.Status, Info: r.Info, GUID: r.GUID, Attempt: d.Attempt}, true, nil
}

// applyAgentReceipt stores a waybill or inventory-list receipt of a
// customs order (creating the document's row if this is its first news)
// and computes the document's state again from its receipts: those of its
// newest message (the guid first reported last), leaving out messages a
// re-declaration replaced; the state is that of the highest-ranking
// receipt.
func applyAgentReceipt(tx *gorm.DB, tid, orderID int64, kind string, r Receipt) (*docChange, bool, error) {
	no := r.OrderNo
	if err := tx.Exec(`INSERT INTO customs_declarations (tenant_id, order_id, kind, order_no, guid, state, sent_at, warehouse_id)
		SELECT tenant_id, order_id, ?, order_no, '', 'sent', now(), warehouse_id FROM customs_declarations
		WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?
		ON CONFLICT DO NOTHING`, kind, tid, orderID, no).Error; err != nil {
		return nil, false, err
	}
	var cur []struct {
		State      string
		GUID       string `gorm:"column:guid"`
		LastStatus *int
		Attempt    int
	}
	if err := tx.Raw(`SELECT state, guid, last_status, attempt FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind = ? AND order_no = ?
		FOR UPDATE`, tid, orderID, kind, no).Scan(&cur).Error; err != nil || len(cur) == 0 {
		return nil, false, err
	}
	res := tx.Exec(`INSERT INTO customs_receipts (tenant_id, order_id, kind, order_no, guid, return_status, return_time, return_info)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tid, orderID, kind, no, r.GUID, r.Status, r.Time, r.Info)
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, false, res.Error
	}
	var all []struct {
		GUID         string `gorm:"column:guid"`
		ReturnStatus int
		ReturnTime   time.Time
		ReturnInfo   string
	}
	if err := tx.Raw(`SELECT r.guid, r.return_status, r.return_time, r.return_info FROM customs_receipts r
		WHERE r.tenant_id = ? AND r.order_id = ? AND r.kind = ? AND r.order_no = ?
		  AND NOT EXISTS (SELECT 1 FROM customs_declarations d WHERE d.tenant_id = ? AND d.order_id = ? AND d.kind = ? AND d.order_no = ?
		    AND r.guid = ANY (d.superseded_guids))
		ORDER BY r.return_time, r.return_status LIMIT 2000`, tid, orderID, kind, no, tid, orderID, kind, no).Scan(&all).Error; err != nil {
		return nil, false, err
	}
	first := map[string]time.Time{}
	newest := ""
	for _, x := range all {
		if _, ok := first[x.GUID]; !ok {
			first[x.GUID] = x.ReturnTime
		}
	}
	for g, t := range first {
		if newest == "" || t.After(first[newest]) || (t.Equal(first[newest]) && g > newest) {
			newest = g
		}
	}
	if newest == "" {
		return nil, true, nil // only receipts of replaced messages
	}
	best := -1
	for i, x := range all {
		if x.GUID == newest && (best < 0 || docRank(kind, x.ReturnStatus) > docRank(kind, all[best].ReturnStatus)) {
			best = i
		}
	}
	b := all[best]
	var attempts int64
	if err := tx.Raw(`SELECT count(DISTINCT guid) FROM customs_receipts WHERE tenant_id = ? AND order_id = ? AND kind = ? AND order_no = ?`,
		tid, orderID, kind, no).Scan(&attempts).Error; err != nil {
		return nil, false, err
	}
	state := docStateOf(kind, b.ReturnStatus)
	c := cur[0]
	if c.State == state && c.GUID == newest && c.LastStatus != nil && *c.LastStatus == b.ReturnStatus {
		return nil, true, nil
	}
	if err := tx.Exec(`UPDATE customs_declarations SET state = ?, guid = ?, attempt = ?, last_status = ?, last_info = ?, last_receipt_at = ?,
		updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = ? AND order_no = ?`,
		state, newest, max(attempts, 1), b.ReturnStatus, b.ReturnInfo, b.ReturnTime, tid, orderID, kind, no).Error; err != nil {
		return nil, false, err
	}
	if c.State == state {
		return nil, true, nil
	}
	return &docChange{Kind: kind, OrderNo: no, State: state, Status: b.ReturnStatus, Info: b.ReturnInfo, GUID: newest,
		Attempt: int(max(attempts, 1))}, true, nil
}

// maxAutoAttempts bounds the automatic re-declarations of an order whose
// message the e-port failed to pass to customs (receipt 4).
const maxAutoAttempts = 3

// settleCustoms applies to order orderID what its documents' changes mean,
// in tx, customs order by customs order:
//   - an order declaration accepted: its waybill and inventory list are
//     now the agent's to declare (their rows become sent);
//   - an order declaration failed in transit (receipt 4): declared again
//     automatically, up to maxAutoAttempts attempts, since the same
//     message may pass next time; a rejection never is;
//   - any document rejected: the order moves declaring → customs_rejected
//     with the customs order, the document and customs' reason;
//   - then, whatever changed, the order moves declaring → declared if
//     every document it needs is accepted (see tryDeclared).
func (s *Service) settleCustoms(ctx context.Context, tx *gorm.DB, tid, orderID int64, changes []docChange) error {
	for _, c := range changes {
		data := map[string]any{"document": c.Kind, "order_no": c.OrderNo, "return_status": c.Status, "return_info": c.Info, "guid": c.GUID}
		switch {
		case c.State == DeclRejected:
			if err := s.orderTo(ctx, tx, tid, orderID, OrderDeclaring, OrderCustomsRejected, "customs_rejected", data); err != nil {
				return err
			}
		case c.Kind == DocOrder && c.State == DeclAccepted:
			if err := orderEvent(ctx, tx, tid, orderID, "customs_order_accepted", "", "", data); err != nil {
				return err
			}
			for _, k := range []string{DocWaybill, DocInventory} {
				if err := tx.Exec(`INSERT INTO customs_declarations (tenant_id, order_id, kind, order_no, guid, state, sent_at, warehouse_id)
					SELECT tenant_id, order_id, ?, order_no, '', 'sent', now(), warehouse_id FROM customs_declarations
					WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?
					ON CONFLICT (tenant_id, order_id, kind, order_no) DO UPDATE SET state = 'sent', sent_at = now(), updated_at = now()
					WHERE customs_declarations.state = 'pending'`, k, tid, orderID, c.OrderNo).Error; err != nil {
					return err
				}
			}
		case c.Kind == DocOrder && c.State == DeclFailed && c.Status == ReturnSendFailed && c.Attempt < maxAutoAttempts:
			if err := orderEvent(ctx, tx, tid, orderID, "customs_order_failed", "", "", data); err != nil {
				return err
			}
			d, err := loadDecl(tx, tid, orderID, c.OrderNo, true)
			if err != nil || d == nil {
				return err
			}
			if err := redeclareTx(ctx, tx, tid, orderID, d, "customs_redeclared_automatically"); err != nil {
				return err
			}
		case c.State == DeclAccepted || c.State == DeclFailed:
			if err := orderEvent(ctx, tx, tid, orderID, "customs_"+c.Kind+"_"+c.State, "", "", data); err != nil {
				return err
			}
		}
	}
	return tryDeclared(ctx, tx, tid, orderID)
}

// tryDeclared moves order orderID declaring → declared when customs
// accepted the order declaration and released the inventory list of each
// of its customs orders, and accepted its payment declaration if it has
// one (a row of kind payment, whoever writes it). Otherwise it changes
// nothing.
func tryDeclared(ctx context.Context, tx *gorm.DB, tid, orderID int64) error {
	var docs []struct{ Kind, OrderNo, State string }
	if err := tx.Raw(`SELECT kind, order_no, state FROM customs_declarations WHERE tenant_id = ? AND order_id = ?`, tid, orderID).
		Scan(&docs).Error; err != nil {
		return err
	}
	st := map[string]string{}
	var nos []string
	for _, d := range docs {
		st[d.Kind+" "+d.OrderNo] = d.State
		if d.Kind == DocOrder {
			nos = append(nos, d.OrderNo)
		}
	}
	if len(nos) == 0 {
		return nil
	}
	summary := map[string]string{}
	for _, no := range nos {
		if st[DocOrder+" "+no] != DeclAccepted || st[DocInventory+" "+no] != DeclAccepted {
			return nil
		}
	}
	for _, d := range docs {
		if d.Kind == DocPayment && d.State != DeclAccepted {
			return nil
		}
		summary[d.Kind] = d.State
	}
	var cur []string
	if err := tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, orderID).Scan(&cur).Error; err != nil {
		return err
	}
	if len(cur) != 1 || cur[0] != OrderDeclaring {
		return nil
	}
	data := map[string]any{"documents": summary}
	if len(nos) > 1 {
		sort.Slice(nos, func(i, j int) bool { return customsOrderLess(nos[i], nos[j]) })
		data["customs_orders"] = nos
	}
	return transition(ctx, tx, tid, orderID, OrderDeclaring, OrderDeclared, "customs_cleared", data, "")
}

// SettleCustoms moves order orderID of the shop in ctx to declared if all
// its documents are accepted (see tryDeclared). For whoever changes a
// document's state outside ApplyCustomsReceipts, e.g. the payment
// declaration once WeChat Pay reports it accepted. not_found for another
// shop's order.
func (s *Service) SettleCustoms(ctx context.Context, orderID int64) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return errNoOrder
		}
		return tryDeclared(ctx, tx, tid, orderID)
	})
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
// the shop in ctx (order declaration, waybill, inventory list of each of
// its customs orders) and applies them, then settles the order (see
// SettleCustoms). An order declaration the e-port has not answered within
// customsResendAfter of its sending is sent again (the same message: the
// agent and customs dedupe it on its guid), up to maxSends sends; after
// that it waits in the queue of what needs a person. It returns how many
// receipts were new; not_found for an order without a declaration.
func (s *Service) PollCustoms(ctx context.Context, orderID int64) (int, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return 0, err
	}
	var ds []declRow
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		ds, err = loadDecls(tx, tid, orderID, false)
		return err
	}); err != nil {
		return 0, err
	}
	if len(ds) == 0 {
		return 0, errNoDeclaration
	}
	var asked []declRow
	for _, d := range ds {
		if d.State != DeclPending {
			asked = append(asked, d)
		}
	}
	if len(asked) == 0 {
		return 0, nil
	}
	codes, gw, err := s.customsAgentFor(ctx, tid)
	if err != nil {
		return 0, err
	}
	var rs []Receipt
	for _, d := range asked {
		got, err := gw.Receipts(ctx, codes.EBCCode, d.OrderNo)
		if err != nil {
			return 0, err
		}
		rs = append(rs, got...)
	}
	n, err := s.ApplyCustomsReceipts(ctx, rs)
	if err != nil {
		return n, err
	}
	if n == 0 {
		if err := s.SettleCustoms(ctx, orderID); err != nil {
			return 0, err
		}
	}
	return n, s.resendIfSilent(ctx, tid, orderID)
}

// Sending again an order declaration nobody answered.
const (
	customsResendAfter = 30 * time.Minute
	maxSends           = 4
)

// resendIfSilent queues the same message again for each order declaration
// of the order sent more than customsResendAfter ago with no receipt since.
func (s *Service) resendIfSilent(ctx context.Context, tid, orderID int64) error {
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		ds, err := loadDecls(tx, tid, orderID, true)
		if err != nil {
			return err
		}
		resent := 0
		for _, d := range ds {
			if d.State != DeclSent || d.LastStatus != nil || d.SentAt == nil || time.Since(*d.SentAt) < customsResendAfter || d.Attempts >= maxSends {
				continue
			}
			if err := tx.Exec(`UPDATE customs_declarations SET state = 'pending', last_error = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`,
				"no answer from the e-port since "+d.SentAt.UTC().Format(time.RFC3339)+"; sent again", tid, orderID, d.OrderNo).Error; err != nil {
				return err
			}
			if err := orderEvent(ctx, tx, tid, orderID, "customs_resent", "", "", map[string]any{"order_no": d.OrderNo, "guid": d.GUID,
				"sends": d.Attempts}); err != nil {
				return err
			}
			resent++
		}
		if resent == 0 {
			return nil
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsDeclare, Queue: outbox.QueueCritical, TenantID: tid,
			Data: customsTask{OrderID: orderID}})
	})
}

var errNoDeclaration = errs.E(errs.NotFound, "customs_declaration_not_found", "this order has no customs declaration")

// Redeclare queues a new attempt of the order declaration of customs order
// orderNo of an order after customs rejected one of its documents (or the
// agent refused it): a new guid, appType 2, sent by the declare task; its
// waybill and inventory list start over once customs accepts the new
// attempt. The other customs orders of a split order are left as they
// are. An empty orderNo declares again every customs order of the order
// that needs it. 404 for another shop's order, an order without a
// declaration or without customs order orderNo; 409 customs_not_rejected
// unless a document of the customs order is rejected or failed (and its
// order declaration is not still on its way).
func (s *Service) Redeclare(ctx context.Context, orderID int64, orderNo string) (*CustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *CustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockOrderRow(tx, tid, orderID); err != nil {
			return err
		}
		ds, err := loadDecls(tx, tid, orderID, true)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return errNoDeclaration
		}
		var bad []struct{ OrderNo string }
		if err := tx.Raw(`SELECT order_no FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind IN ('waybill', 'inventory')
			AND state IN ('rejected', 'failed')`, tid, orderID).Scan(&bad).Error; err != nil {
			return err
		}
		needs := func(d declRow) bool {
			if d.State == DeclRejected || d.State == DeclFailed {
				return true
			}
			for _, b := range bad {
				if b.OrderNo == d.OrderNo {
					return d.State == DeclAccepted
				}
			}
			return false
		}
		var redo []declRow
		for _, d := range ds {
			if orderNo != "" && d.OrderNo != orderNo {
				continue
			}
			if orderNo != "" && !needs(d) {
				return errs.E(errs.Conflict, "customs_not_rejected", "only a rejected or failed declaration can be declared again; customs order "+
					d.OrderNo+" is "+d.State).WithDetails(map[string]string{"state": d.State, "order_no": d.OrderNo})
			}
			if needs(d) {
				redo = append(redo, d)
			}
		}
		switch {
		case orderNo != "" && len(redo) == 0:
			return errs.E(errs.NotFound, "customs_declaration_not_found", "this order has no customs order "+orderNo)
		case len(redo) == 0:
			return errs.E(errs.Conflict, "customs_not_rejected", "only a rejected or failed declaration can be declared again; this one is "+ds[0].State).
				WithDetails(map[string]string{"state": ds[0].State})
		}
		for i := range redo {
			if err := redeclareTx(ctx, tx, tid, orderID, &redo[i], "customs_redeclare_requested"); err != nil {
				return err
			}
		}
		v, err = customsView(tx, tid, orderID)
		return err
	})
	return v, err
}

// redeclareTx starts attempt d.Attempt+1 of the order declaration of
// customs order d.OrderNo in tx: pending with a new guid, a declare task,
// and its waybill and inventory list back to pending, their messages so far
// replaced.
func redeclareTx(ctx context.Context, tx *gorm.DB, tid, orderID int64, d *declRow, event string) error {
	next := d.Attempt + 1
	if err := tx.Exec(`UPDATE customs_declarations SET state = 'pending', attempt = ?, guid = ?, last_status = NULL, last_info = '',
		last_error = '', updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'order' AND order_no = ?`,
		next, DeclarationGUID(tid, d.OrderNo, next), tid, orderID, d.OrderNo).Error; err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE customs_declarations d SET state = 'pending', guid = '', last_status = NULL, last_info = '', last_error = '',
		updated_at = now(), superseded_guids = ARRAY(SELECT DISTINCT r.guid FROM customs_receipts r
			WHERE r.tenant_id = d.tenant_id AND r.order_id = d.order_id AND r.kind = d.kind AND r.order_no = d.order_no ORDER BY 1)
		WHERE d.tenant_id = ? AND d.order_id = ? AND d.kind IN ('waybill', 'inventory') AND d.order_no = ?`, tid, orderID, d.OrderNo).Error; err != nil {
		return err
	}
	if err := orderEvent(ctx, tx, tid, orderID, event, "", "", map[string]any{"order_no": d.OrderNo, "attempt": next}); err != nil {
		return err
	}
	return outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsDeclare, Queue: outbox.QueueCritical, TenantID: tid,
		Data: customsTask{OrderID: orderID}})
}

// TaskCustomsPoll is the periodic task that fetches receipts of every
// declaration still waiting for customs' answer.
const TaskCustomsPoll = "customs.poll_receipts"

// PollOpenCustoms polls (see PollCustoms) up to limit orders, in every
// shop, with a document sent and not yet answered (last changed before
// before), or still declaring with its order declaration and inventory
// list accepted (waiting for the payment declaration). It returns how
// many receipts were new; a shop whose agent fails does not stop the
// others (the error names them).
func (s *Service) PollOpenCustoms(ctx context.Context, before time.Time, limit int) (int, error) {
	var open []struct{ TenantID, OrderID int64 }
	if err := s.DB.WithContext(ctx).Raw(`SELECT tenant_id, order_id FROM customs_orders_to_poll(?, ?)`, before, limit).Scan(&open).Error; err != nil {
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

// lockOrderRow locks the order's row for the rest of tx (errNoOrder when
// the shop has no such order), so that actions on its declarations do not
// race.
func lockOrderRow(tx *gorm.DB, tid, orderID int64) error {
	var ids []int64
	if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, orderID).Scan(&ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return errNoOrder
	}
	return nil
}
