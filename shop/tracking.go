package shop

// Tracking through Kuaidi100. Each shipment is subscribed (pushes to
// /api/v1/logistics/kuaidi100/{slug}?shipment={id}, signed with the shop's
// salt); when Kuaidi100 aborts a subscription it is subscribed again 30
// minutes later (at most 4 times a month, Kuaidi100's limit). A waybill
// that heard nothing for 2 hours is queried instead (query.do), never more
// often than every 30 minutes, at a time spread by its id so that the
// sweep does not query every waybill in the same minute.
//
// Pushes repeat the whole history, may come twice or out of order: every
// trace line is stored once, and the shipment's state is that of its newest
// trace by time, so an older push changes nothing. State changes go on the
// order's timeline (customs clearance 10–14 too); a parcel signed for (3)
// is delivered, and once every parcel is delivered and every line shipped
// the order is delivered. A delivered order completes by itself after
// LogisticsConfig.AutoComplete.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// KD100CallbackPath is the route of Kuaidi100's pushes.
const KD100CallbackPath = "/api/v1/logistics/kuaidi100/:slug"

const (
	silentBefore = 2 * time.Hour    // a waybill this long without a push is queried
	resubAfter   = 30 * time.Minute // Kuaidi100 takes a new subscription this long after an abort
)

func trackingCtx(ctx context.Context) context.Context {
	if scope.ActorOf(ctx) == scope.System {
		return scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "tracking"})
	}
	return ctx
}

// shipState maps a Kuaidi100 state to a shipment state.
func shipState(kd int) string {
	switch kd {
	case kuaidi100.StateSigned:
		return ShipDelivered
	case kuaidi100.StateDelivering:
		return ShipDelivering
	case kuaidi100.StateCustomsWaiting, kuaidi100.StateCustomsClearing, kuaidi100.StateCustomsCleared:
		return ShipCustoms
	case kuaidi100.StateTrouble, kuaidi100.StateCustomsProblem, kuaidi100.StateCustomsRefused:
		return ShipException
	case kuaidi100.StateRefused, kuaidi100.StateReturning:
		return ShipReturned
	default:
		return ShipInTransit
	}
}

// SubscribeTracking handles a logistics.subscribe task: it subscribes the
// shipment at Kuaidi100 unless it is already subscribed. A refusal that
// retrying cannot fix leaves the shipment to fallback queries.
func (s *Service) SubscribeTracking(ctx context.Context, taskID string, shipmentID int64) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ctx = trackingCtx(ctx)
	var sh *shipmentRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.id = ?`, tid, shipmentID)
		if err == nil && len(rows) == 1 {
			sh = &rows[0]
		}
		return err
	})
	if err != nil || sh == nil || (sh.Subscription != "pending" && sh.Subscription != "aborted") || sh.Subscribes >= kuaidi100.MaxSubscriptions {
		return err
	}
	acct, client, err := s.kuaidi100For(ctx, tid)
	if err == nil {
		var slug string
		if slug, err = s.Tenants.SlugOf(ctx); err == nil {
			cb := strings.TrimSuffix(s.Logistics.CallbackBase, "/") + strings.Replace(KD100CallbackPath, ":slug", slug, 1) +
				"?shipment=" + strconv.FormatInt(shipmentID, 10)
			err = client.Subscribe(ctx, acct, kuaidi100.SubscribeRequest{Company: sh.Carrier, Number: sh.TrackingNo,
				Phone: s.consigneePhone(ctx, tid, sh.OrderID, sh.Carrier), CallbackURL: cb, Salt: acct.Salt})
		}
	}
	state, note := "active", ""
	var k *kuaidi100.Error
	switch {
	case err == nil || kuaidi100.IsDuplicate(err):
	case errors.As(err, &k):
		state, note = "failed", "Kuaidi100 refused the subscription ("+k.Code+": "+k.Message+"); the parcel is tracked by queries"
	case errs.Is(err, errs.Conflict):
		state, note = "failed", errs.As(err).Message
	default:
		// Unreachable: the sweep tries again.
		note = "the tracking subscription will be retried: Kuaidi100 is not reachable"
		s.Log.WarnContext(ctx, "tracking: subscribing", "shipment_id", shipmentID, "err", err)
		return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE shipments SET sub_error = ? WHERE tenant_id = ? AND id = ?`, note, tid, shipmentID).Error
		})
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskTrackSubscribe, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE shipments SET subscription = ?, sub_error = ?, subscribes = subscribes + 1, subscribed_at = now(), updated_at = now()
			WHERE tenant_id = ? AND id = ? AND subscription IN ('pending', 'aborted')`, state, note, tid, shipmentID).Error
	})
	return err
}

// consigneePhone is what Kuaidi100 wants for carriers that check the
// consignee: the last 4 digits of the phone.
func (s *Service) consigneePhone(ctx context.Context, tid, orderID int64, carrier string) string {
	if c, ok := kuaidi100.CarrierOf(carrier); !ok || !c.NeedPhone {
		return ""
	}
	var phone string
	_ = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT address->>'phone' FROM orders WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&phone).Error
	})
	if len(phone) >= 4 {
		return phone[len(phone)-4:]
	}
	return phone
}

// Kuaidi100Push applies a push for shipment shipmentID of the tenant in
// ctx: param and sign exactly as posted. A bad sign is ErrBadSign wrapped
// in an unauthorized error; a push for another waybill is not found.
func (s *Service) Kuaidi100Push(ctx context.Context, shipmentID int64, param, sign string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ctx = trackingCtx(ctx)
	acct, _, err := s.kuaidi100For(ctx, tid)
	if err != nil {
		return err
	}
	p, err := kuaidi100.ParsePush(param, sign, acct.Salt)
	if errors.Is(err, kuaidi100.ErrBadSign) {
		return errs.E(errs.Unauthorized, "bad_sign", "the push signature does not match")
	}
	if err != nil {
		return errs.E(errs.Invalid, "bad_push", "the push is not a Kuaidi100 push")
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.id = ?`, tid, shipmentID)
		if err != nil {
			return err
		}
		if len(rows) == 0 || !strings.EqualFold(rows[0].TrackingNo, p.LastResult.Nu) && p.LastResult.Nu != "" {
			return errNoShipment
		}
		sub := ""
		switch p.Status {
		case "abort":
			sub = "aborted"
		case "shutdown":
			sub = "done"
		}
		if sub != "" {
			if err := tx.Exec(`UPDATE shipments SET subscription = ?, sub_error = ?, updated_at = now() WHERE tenant_id = ? AND id = ?`,
				sub, truncRunes(p.Message, 200), tid, shipmentID).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE shipments SET last_push_at = now() WHERE tenant_id = ? AND id = ?`, tid, shipmentID).Error; err != nil {
			return err
		}
		return s.applyTraces(ctx, tx, tid, &rows[0], &p.LastResult)
	})
}

// applyTraces stores the traces of res once and moves the shipment (and
// its order) forward when res's newest trace is newer than what it has.
func (s *Service) applyTraces(ctx context.Context, tx *gorm.DB, tid int64, sh *shipmentRow, res *kuaidi100.Result) error {
	state := res.StateCode()
	var newest *kuaidi100.Trace
	var newestAt time.Time
	var values []string
	var args []any
	for i := range res.Data {
		tr := res.Data[i]
		at, ok := tr.At()
		if !ok || tr.Context == "" || len(values) == 200 {
			continue
		}
		var kd any
		if n, err := strconv.Atoi(tr.StatusCode); err == nil {
			kd = n
		}
		values = append(values, "(?, ?, ?, ?, ?, ?)")
		args = append(args, tid, sh.ID, at, truncRunes(tr.Context, 500), kd, truncRunes(tr.AreaName, 100))
		if newest == nil || at.After(newestAt) {
			newest, newestAt = &res.Data[i], at
		}
	}
	if len(values) > 0 {
		// One statement for the whole history: pushes repeat it every time.
		if err := tx.Exec(`INSERT INTO shipment_traces (tenant_id, shipment_id, at, context, kd_state, area) VALUES `+
			strings.Join(values, ", ")+` ON CONFLICT DO NOTHING`, args...).Error; err != nil {
			return err
		}
	}
	if newest == nil || state < 0 || sh.LastTraceAt != nil && !newestAt.After(*sh.LastTraceAt) {
		return nil // nothing newer than what the shipment shows: a repeat or an older push
	}
	st := shipState(state)
	if err := tx.Exec(`UPDATE shipments SET kd_state = ?, state = ?, last_trace = ?, last_trace_at = ?,
		delivered_at = CASE WHEN ? = 'delivered' THEN coalesce(delivered_at, now()) ELSE delivered_at END, updated_at = now()
		WHERE tenant_id = ? AND id = ?`, state, st, truncRunes(newest.Context, 500), newestAt, st, tid, sh.ID).Error; err != nil {
		return err
	}
	if sh.KdState != nil && *sh.KdState == state {
		return nil
	}
	en, zh := kuaidi100.StateName(state)
	kind := "tracking"
	if kuaidi100.IsCustoms(state) {
		kind = "customs_clearance"
	}
	if err := orderEvent(ctx, tx, tid, sh.OrderID, kind, "", "", map[string]any{"shipment_id": sh.ID, "tracking_no": sh.TrackingNo,
		"carrier_state": state, "state": st, "name": en, "name_zh": zh, "context": truncRunes(newest.Context, 500), "at": newestAt.UTC()}); err != nil {
		return err
	}
	if st == ShipDelivered {
		return s.maybeDelivered(ctx, tx, tid, sh.OrderID)
	}
	return nil
}

// maybeDelivered moves the order to delivered once every line is shipped
// and every parcel delivered.
func (s *Service) maybeDelivered(ctx context.Context, tx *gorm.DB, tid, orderID int64) error {
	o, err := loadOrder(tx, tid, orderID, 0, true)
	if err != nil || o.Status != OrderShipped {
		return err
	}
	left, err := unshipped(tx, tid, o)
	if err != nil {
		return err
	}
	for _, q := range left {
		if q > 0 {
			return nil
		}
	}
	var open int64
	if err := tx.Raw(`SELECT count(*) FROM shipments WHERE tenant_id = ? AND order_id = ? AND state <> 'delivered'`, tid, orderID).Scan(&open).Error; err != nil || open > 0 {
		return err
	}
	if err := tx.Exec(`UPDATE order_shipping SET delivered_at = now(), updated_at = now() WHERE tenant_id = ? AND order_id = ?`, tid, orderID).Error; err != nil {
		return err
	}
	return transition(ctx, tx, tid, orderID, OrderShipped, OrderDelivered, "delivered", nil, "")
}

// PollTracking queries a silent waybill at Kuaidi100, unless it was queried
// less than 30 minutes before now; the next query is due 30 to 40 minutes
// later (spread by the shipment id).
func (s *Service) PollTracking(ctx context.Context, shipmentID int64, now time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ctx = trackingCtx(ctx)
	next := now.Add(kuaidi100.MinQueryGap + time.Duration(shipmentID%600)*time.Second)
	var sh *shipmentRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.id = ?`, tid, shipmentID)
		if err != nil || len(rows) == 0 {
			return err
		}
		if rows[0].PolledAt != nil && now.Sub(*rows[0].PolledAt) < kuaidi100.MinQueryGap {
			return tx.Exec(`UPDATE shipments SET next_poll_at = ? WHERE tenant_id = ? AND id = ?`, rows[0].PolledAt.Add(kuaidi100.MinQueryGap), tid, shipmentID).Error
		}
		// Claimed before the call: a crash after it must not query again at once.
		sh = &rows[0]
		return tx.Exec(`UPDATE shipments SET polled_at = ?, next_poll_at = ? WHERE tenant_id = ? AND id = ?`, now, next, tid, shipmentID).Error
	})
	if err != nil || sh == nil {
		return err
	}
	acct, client, err := s.kuaidi100For(ctx, tid)
	if err != nil {
		return err
	}
	res, err := client.Query(ctx, acct, sh.Carrier, sh.TrackingNo, s.consigneePhone(ctx, tid, sh.OrderID, sh.Carrier))
	var k *kuaidi100.Error
	if errors.As(err, &k) {
		if k.Code == "500" {
			return nil // no record yet
		}
		return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE shipments SET sub_error = ? WHERE tenant_id = ? AND id = ?`,
				truncRunes("Kuaidi100 query refused ("+k.Code+": "+k.Message+")", 300), tid, shipmentID).Error
		})
	}
	if err != nil {
		return err
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return s.applyTraces(ctx, tx, tid, sh, res)
	})
}

// AutoComplete completes a delivered order whose delivery is older than
// the auto-complete delay.
func (s *Service) AutoComplete(ctx context.Context, orderID int64, now time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	ctx = trackingCtx(ctx)
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var at []time.Time
		if err := tx.Raw(`SELECT delivered_at FROM order_shipping WHERE tenant_id = ? AND order_id = ? AND delivered_at IS NOT NULL`, tid, orderID).
			Scan(&at).Error; err != nil || len(at) == 0 || now.Sub(at[0]) < s.autoComplete() {
			return err
		}
		o, err := loadOrder(tx, tid, orderID, 0, true)
		if err != nil || o.Status != OrderDelivered {
			return err
		}
		return transition(ctx, tx, tid, orderID, OrderDelivered, OrderCompleted, "auto_completed",
			map[string]any{"after_days": int(s.autoComplete().Hours() / 24)}, "")
	})
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Polled, Subscribed, Uploads, Completed int
}

// SweepLogistics is the periodic logistics task, across every shop: it
// queries silent waybills, subscribes shipments whose subscription is due
// (new, unreachable before, or aborted 30 minutes ago), queues uploads
// whose retry is due, and completes orders delivered long enough ago, at
// most limit of each. A shop that fails does not stop the others.
func (s *Service) SweepLogistics(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	var due []struct {
		Kind     string
		TenantID int64
		ID       int64
	}
	var res SweepResult
	if err := s.DB.WithContext(ctx).Raw(`SELECT kind, tenant_id, id FROM logistics_due(?, ?, ?, ?, ?)`,
		now, now.Add(-silentBefore), now.Add(-resubAfter), now.Add(-s.autoComplete()), limit).Scan(&due).Error; err != nil {
		return res, err
	}
	var failed []string
	for _, d := range due {
		tctx := scope.WithActor(scope.WithTenant(ctx, d.TenantID), scope.Actor{Kind: "system", ID: "logistics"})
		var err error
		switch d.Kind {
		case "poll":
			err = s.PollTracking(tctx, d.ID, now)
			res.Polled++
		case "subscribe":
			err = s.SubscribeTracking(tctx, fmt.Sprintf("sweep:%d:%d:%d", d.TenantID, d.ID, now.Unix()), d.ID)
			res.Subscribed++
		case "upload":
			err = db.InTenant(tctx, s.DB, func(tx *gorm.DB) error {
				// Pushed back while the task runs; the task sets its own next try.
				if err := tx.Exec(`UPDATE order_shipping SET next_attempt_at = ? WHERE tenant_id = ? AND order_id = ?`,
					now.Add(5*time.Minute), d.TenantID, d.ID).Error; err != nil {
					return err
				}
				return outbox.Add(tctx, tx, outbox.Message{Kind: TaskShippingUpload, TenantID: d.TenantID, Data: orderTask{OrderID: d.ID}})
			})
			res.Uploads++
		case "complete":
			err = s.AutoComplete(tctx, d.ID, now)
			res.Completed++
		}
		if err != nil {
			s.Log.WarnContext(ctx, "logistics sweep", "kind", d.Kind, "tenant_id", d.TenantID, "id", d.ID, "err", err)
			failed = append(failed, fmt.Sprintf("%s %d/%d", d.Kind, d.TenantID, d.ID))
		}
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("logistics sweep failed for %s", strings.Join(failed, ", "))
	}
	return res, nil
}

// kd100Query parses the shipment id of a push URL's query.
func kd100Query(q url.Values) (int64, bool) {
	id, err := strconv.ParseInt(q.Get("shipment"), 10, 64)
	return id, err == nil && id > 0
}

// SubscribeTask handles a logistics.subscribe task.
func (s *Service) SubscribeTask(ctx context.Context, taskID string, data json.RawMessage) error {
	var t shipmentTask
	if err := json.Unmarshal(data, &t); err != nil || t.ShipmentID <= 0 {
		return fmt.Errorf("tracking: bad payload %s", data)
	}
	return s.SubscribeTracking(ctx, taskID, t.ShipmentID)
}
