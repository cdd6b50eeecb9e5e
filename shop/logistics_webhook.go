package shop

// The warehouse webhook: a shop's warehouse (or its WMS) posts each parcel
// it hands to a carrier to POST /api/v1/logistics/warehouse/{slug}, signed
// with the shop's webhook secret:
//
//	X-Minishop-Timestamp: <Unix seconds>
//	X-Minishop-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	body: {"order_no": "…", "carrier": "yuantong", "tracking_no": "…", "lines": [{"line_no": 1, "quantity": 2}]}
//
// The signature covers the raw body exactly as sent; a timestamp more than
// 5 minutes away from ours is refused (a replayed request), and so is any
// request of a shop without a secret. The same parcel posted again returns
// the recorded shipment, so the warehouse may retry freely. Staff create or
// replace the secret in the console; it is shown once and stored sealed.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// WarehousePath is the route of the warehouse webhook.
const WarehousePath = "/api/v1/logistics/warehouse/:slug"

// Headers of the warehouse webhook.
const (
	HeaderTimestamp = "X-Minishop-Timestamp"
	HeaderSignature = "X-Minishop-Signature"
)

const webhookSkew = 5 * time.Minute

const webhookPurpose = "logistics/warehouse-webhook"

// WarehouseWebhook is the shop's warehouse webhook as staff see it. Secret
// is present only in the answer that created it.
type WarehouseWebhook struct {
	URL        string     `json:"url"`
	Configured bool       `json:"configured"`
	Hint       string     `json:"hint"`
	CreatedAt  *time.Time `json:"created_at"`
	Secret     string     `json:"secret,omitempty"`
}

// WarehouseParcel is the body of a warehouse webhook request.
type WarehouseParcel struct {
	OrderNo    string         `json:"order_no"`
	Carrier    string         `json:"carrier"`
	TrackingNo string         `json:"tracking_no"`
	Lines      []ShipmentLine `json:"lines"`
}

// SignWarehouse is the X-Minishop-Signature of body sent at ts.
func SignWarehouse(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Service) webhookURL(ctx context.Context) string {
	slug, err := s.Tenants.SlugOf(ctx)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(s.Logistics.CallbackBase, "/") + strings.Replace(WarehousePath, ":slug", slug, 1)
}

// WarehouseWebhookInfo returns the shop's webhook, without its secret.
func (s *Service) WarehouseWebhookInfo(ctx context.Context) (*WarehouseWebhook, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	out := &WarehouseWebhook{URL: s.webhookURL(ctx)}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []struct {
			Hint      string
			CreatedAt time.Time
		}
		if err := tx.Raw(`SELECT hint, created_at FROM warehouse_webhooks WHERE tenant_id = ?`, tid).Scan(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		at := rows[0].CreatedAt.UTC()
		out.Configured, out.Hint, out.CreatedAt = true, rows[0].Hint, &at
		return nil
	})
	return out, err
}

// RotateWarehouseSecret creates the shop's webhook secret, replacing any
// previous one (which stops working at once), and returns it this once.
func (s *Service) RotateWarehouseSecret(ctx context.Context) (*WarehouseWebhook, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := "whsec_" + base64.RawURLEncoding.EncodeToString(b)
	hint := "…" + secret[len(secret)-4:]
	now := time.Now().UTC()
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		sealed, err := s.Keys.Seal(ctx, tx, tid, webhookPurpose, []byte(secret))
		if err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO warehouse_webhooks (tenant_id, secret_sealed, hint, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, hint = EXCLUDED.hint, created_at = EXCLUDED.created_at`,
			tid, db.Bytes(sealed), hint, now).Error
	})
	if err != nil {
		return nil, err
	}
	return &WarehouseWebhook{URL: s.webhookURL(ctx), Configured: true, Hint: hint, CreatedAt: &now, Secret: secret}, nil
}

var errBadWebhookSig = errs.E(errs.Unauthorized, "bad_signature",
	"the request is not signed with the shop's warehouse webhook secret (X-Minishop-Signature: sha256=HMAC-SHA256(secret, timestamp + \".\" + body), X-Minishop-Timestamp within 5 minutes)")

// WarehouseShipment checks a warehouse webhook request of the tenant in ctx
// and records its parcel like CreateShipment does.
func (s *Service) WarehouseShipment(ctx context.Context, ts, sig string, body []byte, now time.Time) (*Shipment, bool, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, false, err
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil || math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > webhookSkew.Seconds() {
		return nil, false, errBadWebhookSig
	}
	var secret []byte
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var sealed [][]byte
		if err := tx.Raw(`SELECT secret_sealed FROM warehouse_webhooks WHERE tenant_id = ?`, tid).Scan(&sealed).Error; err != nil || len(sealed) == 0 {
			return err
		}
		secret, err = s.Keys.Open(ctx, tx, tid, webhookPurpose, sealed[0])
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if len(secret) == 0 || !hmac.Equal([]byte(SignWarehouse(string(secret), ts, body)), []byte(strings.TrimSpace(sig))) {
		return nil, false, errBadWebhookSig
	}
	var in WarehouseParcel
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, false, errs.E(errs.Invalid, "invalid_body", "the body must be {order_no, carrier, tracking_no, lines?}: "+err.Error())
	}
	var ids []int64
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND out_trade_no = ?`, tid, strings.TrimSpace(in.OrderNo)).Scan(&ids).Error
	})
	if err != nil {
		return nil, false, err
	}
	if len(ids) == 0 {
		return nil, false, errNoOrder
	}
	return s.CreateShipment(ctx, ids[0], ShipmentInput{Carrier: in.Carrier, TrackingNo: in.TrackingNo, Lines: in.Lines}, ShipFromWarehouse)
}
