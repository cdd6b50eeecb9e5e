package shop

// Logistics alerts: what the brand must act on, for the console's home
// page. The money of a WeChat Pay order stays frozen until its shipping
// information is at WeChat, so a failed upload, or one still not done 10
// minutes after the parcel was recorded, is an alert; so is a parcel in
// trouble (Kuaidi100 problem, customs clearance problem, refused, returned)
// and a parcel Kuaidi100 would not track.

import (
	"context"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

// Alert kinds.
const (
	AlertUploadFailed    = "wechat_upload_failed"
	AlertUploadDelayed   = "wechat_upload_delayed"
	AlertUploadMissing   = "wechat_upload_missing"
	AlertTrackingTrouble = "tracking_exception"
	AlertTrackingFailed  = "tracking_unavailable"
)

// LogisticsAlert is one thing to act on.
type LogisticsAlert struct {
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity"` // error or warning
	OrderID    int64     `json:"order_id"`
	OutTradeNo string    `json:"out_trade_no"`
	ShipmentID *int64    `json:"shipment_id"`
	TrackingNo string    `json:"tracking_no"`
	Code       string    `json:"code"` // WeChat errcode or Kuaidi100 state, when there is one
	Message    string    `json:"message"`
	Since      time.Time `json:"since"`
}

// LogisticsAlerts lists the shop's logistics alerts, newest first (at most 200).
func (s *Service) LogisticsAlerts(ctx context.Context, now time.Time) ([]LogisticsAlert, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	out := []LogisticsAlert{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var ups []struct {
			OrderID     int64
			OutTradeNo  string
			State       string
			Attempts    int
			LastErrcode *int
			LastError   string
			UpdatedAt   time.Time
			Missing     bool
		}
		if err := tx.Raw(`SELECT o.id AS order_id, o.out_trade_no, coalesce(x.state, '') AS state, coalesce(x.attempts, 0) AS attempts,
				x.last_errcode, coalesce(x.last_error, '') AS last_error, coalesce(x.updated_at, o.updated_at) AS updated_at, x.order_id IS NULL AS missing
			FROM orders o LEFT JOIN order_shipping x ON x.tenant_id = o.tenant_id AND x.order_id = o.id
			WHERE o.tenant_id = ? AND (
				(x.state = 'failed') OR (x.state = 'pending' AND (x.attempts > 0 OR x.updated_at < ?))
				OR (x.order_id IS NULL AND o.status IN ('shipped', 'delivered')))
			ORDER BY updated_at DESC LIMIT 200`, tid, now.Add(-10*time.Minute)).Scan(&ups).Error; err != nil {
			return err
		}
		for _, u := range ups {
			a := LogisticsAlert{OrderID: u.OrderID, OutTradeNo: u.OutTradeNo, Severity: "error", Message: u.LastError, Since: u.UpdatedAt.UTC()}
			if u.LastErrcode != nil {
				a.Code = strconv.Itoa(*u.LastErrcode)
			}
			switch {
			case u.Missing:
				a.Kind, a.Message = AlertUploadMissing, "the order shipped but its shipping information was never uploaded to WeChat; the payment stays frozen"
			case u.State == UploadFailed:
				a.Kind = AlertUploadFailed
				if a.Message == "" {
					a.Message = "the shipping information upload to WeChat failed"
				}
			default:
				a.Kind, a.Severity = AlertUploadDelayed, "warning"
				if a.Message == "" {
					a.Message = "the shipping information is not at WeChat yet"
				}
				a.Message = "not uploaded yet (" + strconv.Itoa(u.Attempts) + " tries): " + a.Message
			}
			out = append(out, a)
		}
		var shs []struct {
			ID           int64
			OrderID      int64
			OutTradeNo   string
			TrackingNo   string
			State        string
			KdState      *int
			LastTrace    string
			Subscription string
			SubError     string
			UpdatedAt    time.Time
		}
		if err := tx.Raw(`SELECT s.id, s.order_id, o.out_trade_no, s.tracking_no, s.state, s.kd_state, s.last_trace, s.subscription, s.sub_error, s.updated_at
			FROM shipments s JOIN orders o ON o.tenant_id = s.tenant_id AND o.id = s.order_id
			WHERE s.tenant_id = ? AND (s.state IN ('exception', 'returned') OR (s.subscription = 'failed' AND s.state <> 'delivered'))
			ORDER BY s.updated_at DESC LIMIT 200`, tid).Scan(&shs).Error; err != nil {
			return err
		}
		for _, sh := range shs {
			id := sh.ID
			a := LogisticsAlert{OrderID: sh.OrderID, OutTradeNo: sh.OutTradeNo, ShipmentID: &id, TrackingNo: sh.TrackingNo, Since: sh.UpdatedAt.UTC()}
			if sh.State == ShipException || sh.State == ShipReturned {
				a.Kind, a.Severity, a.Message = AlertTrackingTrouble, "error", sh.LastTrace
				if sh.KdState != nil {
					a.Code = strconv.Itoa(*sh.KdState)
				}
			} else {
				a.Kind, a.Severity, a.Message = AlertTrackingFailed, "warning", sh.SubError
			}
			out = append(out, a)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.After(out[j].Since) })
	return localizedAlerts(ctx, out), err
}
