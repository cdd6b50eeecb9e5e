package shop

// The WeChat shipping-information upload (upload_shipping_info). WeChat Pay
// keeps the buyer's money frozen until it is done, so a missed or failed
// upload is an alert for the brand (see LogisticsAlerts).
//
// The order's order_shipping row says what should be at WeChat (the parcels
// recorded so far) and what WeChat took last (a hash of the content). The
// task runs under outbox.Once and holds the row's lock through the call, so
// a task delivered twice, or two at once, uploads once; content WeChat
// already has is not sent again. One parcel holding everything is a unified
// delivery; otherwise a split delivery, is_all_delivered once every line is
// in a parcel. After a complete upload WeChat allows one re-ship: a further
// change of parcels is sent once more, then refused here.
//
// 10060001 (the payment is not indexed yet, or WeChat is busy) and WeChat
// being unreachable are retried by the logistics sweep after 10 s, 20 s,
// 40 s … (at most 30 min apart), 20 times; other refusals fail at once
// with WeChat's errcode and message for the brand to see.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/wechat"
)

// Upload states.
const (
	UploadPending  = "pending"
	UploadUploaded = "uploaded"
	UploadFailed   = "failed"
)

const maxUploadAttempts = 20

// uploadBackoff is the wait after the n-th failed try (n ≥ 1).
func uploadBackoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

type shippingRow struct {
	State       string
	DoneHash    string
	Uploads     int
	FullUploads int
	Attempts    int
}

// UploadShipping handles a logistics.upload_shipping task.
func (s *Service) UploadShipping(ctx context.Context, taskID string, data json.RawMessage) error {
	var t orderTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 {
		return fmt.Errorf("shipping upload: bad payload %s", data)
	}
	return s.uploadShipping(ctx, taskID, t.OrderID, time.Now())
}

func (s *Service) uploadShipping(ctx context.Context, taskID string, orderID int64, now time.Time) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "logistics"})
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskShippingUpload, func(tx *gorm.DB) error {
		var rows []shippingRow
		if err := tx.Raw(`SELECT state, done_hash, uploads, full_uploads, attempts FROM order_shipping
			WHERE tenant_id = ? AND order_id = ? FOR UPDATE`, tid, orderID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 || rows[0].State != UploadPending {
			return nil
		}
		r := rows[0]
		info, complete, err := shippingInfo(tx, tid, orderID)
		if err != nil {
			return s.uploadResult(ctx, tx, tid, orderID, r, "", false, now, err)
		}
		hash := contentHash(info)
		if hash == r.DoneHash {
			return tx.Exec(`UPDATE order_shipping SET state = 'uploaded', attempts = 0, last_errcode = NULL, last_error = '', next_attempt_at = NULL,
				updated_at = now() WHERE tenant_id = ? AND order_id = ?`, tid, orderID).Error
		}
		if complete && r.FullUploads >= 2 {
			return s.uploadResult(ctx, tx, tid, orderID, r, hash, complete, now,
				&wechat.Error{Code: wechat.ErrShipReshipUsed, Msg: "the parcels changed after the one re-ship WeChat allows; nothing was sent"})
		}
		mp, base, err := s.miniProgram(ctx)
		if err == nil {
			info.UploadTime = now.In(cst).Format("2006-01-02T15:04:05.000Z07:00")
			err = s.broker(base).Do(ctx, mp.AppID, mp.Secret, func(token string) error {
				return wechat.New(base).UploadShippingInfo(ctx, token, *info)
			})
		}
		return s.uploadResult(ctx, tx, tid, orderID, r, hash, complete, now, err)
	})
	return err
}

// uploadResult records the outcome of an upload try in tx.
func (s *Service) uploadResult(ctx context.Context, tx *gorm.DB, tid, orderID int64, r shippingRow, hash string, complete bool, now time.Time, callErr error) error {
	var we *wechat.Error
	isWe := errors.As(callErr, &we)
	if callErr == nil || isWe && (we.Code == wechat.ErrShipNothingNew || we.Code == wechat.ErrShipAlreadyDone && r.Uploads == 0) {
		full := 0
		if complete {
			full = 1
		}
		if err := tx.Exec(`UPDATE order_shipping SET state = 'uploaded', done_hash = ?, uploads = uploads + 1, full_uploads = full_uploads + ?,
			attempts = 0, last_errcode = NULL, last_error = '', next_attempt_at = NULL, uploaded_at = ?, updated_at = now()
			WHERE tenant_id = ? AND order_id = ?`, hash, full, now, tid, orderID).Error; err != nil {
			return err
		}
		return orderEvent(ctx, tx, tid, orderID, "wechat_shipping_uploaded", "", "", map[string]any{"complete": complete, "reship": complete && r.FullUploads >= 1})
	}
	retry := errors.Is(callErr, wechat.ErrUnavailable) || wechat.IsShippingRetryLater(callErr) || errs.Is(callErr, errs.Unavailable)
	code, msg := 0, "the shipping information could not be uploaded"
	switch {
	case isWe:
		code, msg = we.Code, we.Msg
	case errs.As(callErr) != nil && errs.As(callErr).Kind != errs.Internal:
		msg = errs.As(callErr).Message
	case retry:
		msg = "WeChat is not reachable; the upload will be retried"
	default:
		s.Log.ErrorContext(ctx, "shipping upload", "order_id", orderID, "err", callErr)
	}
	attempts := r.Attempts + 1
	var codeArg any
	if code != 0 {
		codeArg = code
	}
	if retry && attempts < maxUploadAttempts {
		next := now.Add(uploadBackoff(attempts))
		return tx.Exec(`UPDATE order_shipping SET attempts = ?, last_errcode = ?, last_error = ?, next_attempt_at = ?, updated_at = now()
			WHERE tenant_id = ? AND order_id = ?`, attempts, codeArg, truncRunes(msg, 500), next, tid, orderID).Error
	}
	if err := tx.Exec(`UPDATE order_shipping SET state = 'failed', attempts = ?, last_errcode = ?, last_error = ?, next_attempt_at = NULL, updated_at = now()
		WHERE tenant_id = ? AND order_id = ?`, attempts, codeArg, truncRunes(msg, 500), tid, orderID).Error; err != nil {
		return err
	}
	return orderEvent(ctx, tx, tid, orderID, "wechat_shipping_failed", "", "", map[string]any{"errcode": code, "message": truncRunes(msg, 500)})
}

// RetryShippingUpload queues the order's upload again after a failure
// (staff fixed the cause). Only a failed upload can be retried.
func (s *Service) RetryShippingUpload(ctx context.Context, orderID int64) (*OrderShipments, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var out *OrderShipments
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE order_shipping SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = now()
			WHERE tenant_id = ? AND order_id = ? AND state = 'failed'`, tid, orderID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := loadOrder(tx, tid, orderID, 0, false); err != nil {
				return err
			}
			return errs.E(errs.Conflict, "upload_not_failed", "only a failed shipping-information upload can be retried")
		}
		if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskShippingUpload, TenantID: tid, Data: orderTask{OrderID: orderID}}); err != nil {
			return err
		}
		out, err = orderShipments(tx, tid, orderID)
		return err
	})
	return out, err
}

// shippingInfo builds the upload of the order's parcels so far; complete
// says every line is in a parcel.
func shippingInfo(tx *gorm.DB, tid, orderID int64) (*wechat.ShippingInfo, bool, error) {
	o, err := loadOrder(tx, tid, orderID, 0, false)
	if err != nil {
		return nil, false, err
	}
	if o.TransactionID == "" {
		return nil, false, errs.E(errs.Conflict, "order_not_paid", "the order has no WeChat Pay transaction to attach shipping information to")
	}
	var openid string
	if err := tx.Raw(`SELECT openid FROM customers WHERE tenant_id = ? AND id = ?`, tid, o.CustomerID).Scan(&openid).Error; err != nil {
		return nil, false, err
	}
	rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.order_id = ?`, tid, orderID)
	if err != nil {
		return nil, false, err
	}
	left, err := unshipped(tx, tid, o)
	if err != nil {
		return nil, false, err
	}
	complete := true
	for _, q := range left {
		if q > 0 {
			complete = false
		}
	}
	names := map[int]string{}
	for _, l := range o.Lines {
		n := l.GName
		if n == "" {
			n = l.Title["zh-CN"]
		}
		if n == "" {
			n = l.SKUCode
		}
		names[l.LineNo] = n
	}
	info := &wechat.ShippingInfo{OrderKey: wechat.ShippingOrderKey{OrderNumberType: 2, TransactionID: o.TransactionID},
		LogisticsType: wechat.LogisticsExpress, DeliveryMode: wechat.DeliverySplit}
	info.Payer.OpenID = openid
	for _, r := range rows {
		sh := r.shipment()
		c, _ := kuaidi100.CarrierOf(sh.Carrier)
		var desc []string
		for _, l := range sh.Lines {
			desc = append(desc, fmt.Sprintf("%s*%d", names[l.LineNo], l.Quantity))
		}
		item := wechat.ShippingItem{TrackingNo: sh.TrackingNo, ExpressCompany: c.WeChatID, ItemDesc: truncRunes(strings.Join(desc, "，"), 120)}
		if c.WeChatID == "SF" {
			item.Contact = &wechat.ShippingContact{ReceiverContact: maskPhone(o.Address.Phone)}
		}
		info.ShippingList = append(info.ShippingList, item)
	}
	if len(info.ShippingList) == 0 {
		return nil, false, errs.E(errs.Conflict, "no_shipments", "the order has no parcel to upload")
	}
	if complete && len(info.ShippingList) == 1 {
		info.DeliveryMode = wechat.DeliveryUnified
	} else {
		info.IsAllDelivered = &complete
	}
	return info, complete, nil
}

// contentHash identifies what an upload says, upload_time aside.
func contentHash(info *wechat.ShippingInfo) string {
	c := *info
	c.UploadTime = ""
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// maskPhone keeps the first 3 and last 4 digits (WeChat wants the last 4).
func maskPhone(p string) string {
	p = strings.TrimSpace(p)
	if utf8.RuneCountInString(p) < 8 {
		return p
	}
	return p[:3] + "****" + p[len(p)-4:]
}
