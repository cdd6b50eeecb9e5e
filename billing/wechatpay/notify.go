package wechatpay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Event types of notifications.
const (
	EventTransactionSuccess = "TRANSACTION.SUCCESS"
	EventRefundSuccess      = "REFUND.SUCCESS"
	EventRefundAbnormal     = "REFUND.ABNORMAL"
	EventRefundClosed       = "REFUND.CLOSED"
)

// Notification is a verified and decrypted notification. Exactly one of
// Transaction and Refund is set, by the resource's kind; Plaintext is the
// decrypted resource as sent.
type Notification struct {
	ID           string
	CreateTime   string
	EventType    string
	ResourceType string
	Summary      string
	Transaction  *Transaction
	Refund       *RefundNotice
	Plaintext    json.RawMessage
}

// RefundNotice is the resource of a refund notification. Partner refunds
// fill SpMchID and SubMchID instead of MchID; Amount may be missing.
type RefundNotice struct {
	MchID               string        `json:"mchid,omitempty"`
	SpMchID             string        `json:"sp_mchid,omitempty"`
	SubMchID            string        `json:"sub_mchid,omitempty"`
	OutTradeNo          string        `json:"out_trade_no"`
	TransactionID       string        `json:"transaction_id"`
	RefundID            string        `json:"refund_id"`
	OutRefundNo         string        `json:"out_refund_no"`
	RefundStatus        string        `json:"refund_status"`
	SuccessTime         string        `json:"success_time,omitempty"`
	UserReceivedAccount string        `json:"user_received_account,omitempty"`
	Amount              *RefundAmount `json:"amount,omitempty"`
}

// maxNotification bounds the body ParseNotification accepts; real ones are
// a few kilobytes.
const maxNotification = 64 << 10

// ParseNotification authenticates and opens a notification that WeChat Pay
// posted to notify_url. rawBody must be the body exactly as received (not
// re-encoded). It returns an error matching ErrInvalidSignature (answer
// HTTP 401, never act) for missing headers, signature probes, timestamps
// five minutes or more away, unknown serials and signatures that do not
// match, including bodies altered after signing; and one matching
// ErrMalformedNotification (answer HTTP 400) for a signed body that is not a
// notification or whose resource does not decrypt with the APIv3 key. It
// never panics, whatever the input.
func (c *Client) ParseNotification(header http.Header, rawBody []byte) (*Notification, error) {
	if len(rawBody) > maxNotification {
		return nil, malformed("the body is larger than %d bytes", maxNotification)
	}
	if err := c.verifier.verify(c.now(), header, rawBody); err != nil {
		return nil, err
	}
	return c.open(rawBody)
}

// open decodes and decrypts a notification body whose signature checked.
func (c *Client) open(rawBody []byte) (*Notification, error) {
	var env struct {
		ID           string            `json:"id"`
		CreateTime   string            `json:"create_time"`
		ResourceType string            `json:"resource_type"`
		EventType    string            `json:"event_type"`
		Summary      string            `json:"summary"`
		Resource     EncryptedResource `json:"resource"`
	}
	if err := json.Unmarshal(rawBody, &env); err != nil {
		return nil, malformed("the body is not a notification")
	}
	if env.ID == "" || env.EventType == "" {
		return nil, malformed("the notification has no id or event_type")
	}
	if env.ResourceType != "encrypt-resource" {
		return nil, malformed("resource_type %.40q is not encrypt-resource", env.ResourceType)
	}
	pt, err := Decrypt(c.apiV3Key, env.Resource)
	if err != nil {
		return nil, malformed("the resource: %v", err)
	}
	n := &Notification{ID: env.ID, CreateTime: env.CreateTime, EventType: env.EventType, ResourceType: env.ResourceType,
		Summary: env.Summary, Plaintext: json.RawMessage(pt)}
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(pt))
		return d.Decode(v)
	}
	switch {
	case strings.HasPrefix(env.EventType, "TRANSACTION.") || env.Resource.OriginalType == "transaction":
		var t Transaction
		if dec(&t) != nil || t.OutTradeNo == "" {
			return nil, malformed("the transaction resource is not a transaction")
		}
		n.Transaction = &t
	case strings.HasPrefix(env.EventType, "REFUND.") || env.Resource.OriginalType == "refund":
		var r RefundNotice
		if dec(&r) != nil || r.OutRefundNo == "" {
			return nil, malformed("the refund resource is not a refund")
		}
		n.Refund = &r
	default:
		return nil, malformed("unknown event type %.40q", env.EventType)
	}
	return n, nil
}
