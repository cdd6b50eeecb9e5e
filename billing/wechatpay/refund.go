package wechatpay

import (
	"context"
	"net/url"
	"regexp"
)

// Refund statuses.
const (
	RefundSuccess    = "SUCCESS"
	RefundClosed     = "CLOSED"
	RefundProcessing = "PROCESSING"
	RefundAbnormal   = "ABNORMAL"
)

// RefundRequest refunds all or part of a paid order. Name the order by
// OutTradeNo or TransactionID. OutRefundNo is our refund number and WeChat
// Pay's idempotency key: sending the same refund again returns the refund
// already made, never a second one.
type RefundRequest struct {
	OutTradeNo    string
	TransactionID string
	OutRefundNo   string
	Reason        string
	// NotifyURL receives the refund notification; empty means none.
	NotifyURL string
	// Refund is the amount to give back and Total the order's amount, both
	// in the minor unit of Currency (empty means CNY).
	Refund   int64
	Total    int64
	Currency string
}

// Refund is a refund as WeChat Pay reports it. A new refund is usually
// PROCESSING; it becomes SUCCESS (or ABNORMAL, CLOSED) later, announced by
// a refund notification.
type Refund struct {
	RefundID            string       `json:"refund_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	TransactionID       string       `json:"transaction_id"`
	OutTradeNo          string       `json:"out_trade_no"`
	Channel             string       `json:"channel,omitempty"`
	UserReceivedAccount string       `json:"user_received_account,omitempty"`
	SuccessTime         string       `json:"success_time,omitempty"`
	CreateTime          string       `json:"create_time,omitempty"`
	Status              string       `json:"status"`
	FundsAccount        string       `json:"funds_account,omitempty"`
	Amount              RefundAmount `json:"amount"`
}

// RefundAmount are the amounts of a refund in the minor unit of Currency.
type RefundAmount struct {
	Total            int64  `json:"total"`
	Refund           int64  `json:"refund"`
	PayerTotal       int64  `json:"payer_total,omitempty"`
	PayerRefund      int64  `json:"payer_refund,omitempty"`
	SettlementTotal  int64  `json:"settlement_total,omitempty"`
	SettlementRefund int64  `json:"settlement_refund,omitempty"`
	DiscountRefund   int64  `json:"discount_refund,omitempty"`
	Currency         string `json:"currency,omitempty"`
}

var outRefundNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

type refundJSON struct {
	MchID         string `json:"mchid,omitempty"`     // Global common mode
	SpMchID       string `json:"sp_mchid,omitempty"`  // Global institutional mode
	SubMchID      string `json:"sub_mchid,omitempty"` // partner, Global institutional
	AppID         string `json:"appid,omitempty"`
	TransactionID string `json:"transaction_id,omitempty"`
	OutTradeNo    string `json:"out_trade_no,omitempty"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason,omitempty"`
	NotifyURL     string `json:"notify_url,omitempty"`
	Amount        struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// Refund asks for a refund (domestic: POST /v3/refund/domestic/refunds;
// Global: POST /v3/global/refunds). Refusals come as *APIError, for example
// NOT_ENOUGH (the merchant's balance) or INVALID_REQUEST (more than is
// left to refund). Bad input fails locally with ErrConfig.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (*Refund, error) {
	if !outRefundNoPattern.MatchString(r.OutRefundNo) {
		return nil, configError("out_refund_no %.70q must be 1 to 64 of [0-9A-Za-z_-|*@]", r.OutRefundNo)
	}
	if (r.OutTradeNo == "") == (r.TransactionID == "") {
		return nil, configError("name the order by out_trade_no or by transaction_id, one of them")
	}
	if r.OutTradeNo != "" {
		if err := checkOutNo("out_trade_no", r.OutTradeNo); err != nil {
			return nil, err
		}
	} else if !txnIDPattern.MatchString(r.TransactionID) {
		return nil, configError("transaction_id must be letters and digits")
	}
	if r.Refund <= 0 || r.Total <= 0 || r.Refund > r.Total {
		return nil, configError("refund (%d) must be positive and at most the order total (%d)", r.Refund, r.Total)
	}
	var body refundJSON
	body.TransactionID, body.OutTradeNo, body.OutRefundNo, body.Reason, body.NotifyURL = r.TransactionID, r.OutTradeNo, r.OutRefundNo, r.Reason, r.NotifyURL
	body.Amount.Refund, body.Amount.Total, body.Amount.Currency = r.Refund, r.Total, r.Currency
	if body.Amount.Currency == "" {
		body.Amount.Currency = "CNY"
	}
	path := "/v3/refund/domestic/refunds"
	if c.mode == ModeGlobal {
		path = "/v3/global/refunds"
		if c.institutional() {
			body.SpMchID = c.mchID
		} else {
			body.MchID, body.AppID = c.mchID, c.appID
		}
	}
	if c.institutional() {
		body.SubMchID = c.subMchID
	}
	var out Refund
	if _, err := c.do(ctx, call{op: "refund", method: "POST", path: path, in: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// QueryRefund returns the refund with our refund number; an unknown one is
// an *APIError RESOURCE_NOT_EXISTS (HTTP 404).
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	if !outRefundNoPattern.MatchString(outRefundNo) {
		return nil, configError("out_refund_no %.70q must be 1 to 64 of [0-9A-Za-z_-|*@]", outRefundNo)
	}
	path := "/v3/refund/domestic/refunds/" + url.PathEscape(outRefundNo)
	switch {
	case c.mode == ModeGlobal:
		path = "/v3/global/refunds/out-refund-no/" + url.PathEscape(outRefundNo) + "?" + c.mchQuery()
	case c.institutional():
		path += "?sub_mchid=" + c.subMchID
	}
	var out Refund
	if _, err := c.do(ctx, call{op: "refund query", method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
