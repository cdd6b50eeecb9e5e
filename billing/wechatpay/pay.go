package wechatpay

import (
	"context"
	"net/url"
	"regexp"
	"time"
)

// Trade states of a transaction (trade_state).
const (
	StateSuccess    = "SUCCESS"
	StateRefund     = "REFUND"
	StateNotPay     = "NOTPAY"
	StateClosed     = "CLOSED"
	StateRevoked    = "REVOKED"
	StateUserPaying = "USERPAYING"
	StatePayError   = "PAYERROR"
)

// PrepayRequest is a JSAPI (Mini Program) order. Amounts are in the
// currency's minor unit (fen for CNY).
type PrepayRequest struct {
	// OutTradeNo is our order number: 6 to 32 of [0-9A-Za-z_-*], unique per
	// merchant. WeChat Pay answers the same prepay id for the same order
	// sent again, which makes Prepay safe to retry.
	OutTradeNo  string
	Description string // shown to the payer, at most 127 bytes
	Attach      string // returned as is in queries and notifications
	NotifyURL   string // https URL the payment notification is posted to
	// TimeExpire, if set, is when the order stops being payable (1 minute
	// to 15 days ahead; WeChat Pay defaults to 7 days).
	TimeExpire time.Time
	Amount     int64
	// Currency is "CNY" for direct and partner merchants (empty means CNY);
	// WeChat Pay Global takes the merchant's settlement currency (HKD, USD…).
	Currency string
	// OpenID is the payer's openid in the Mini Program they pay in: AppID's,
	// or in partner mode SubAppID's when set (else SpAppID's).
	OpenID        string
	GoodsTag      string
	PayerClientIP string
	// MerchantCategoryCode is the MCC that WeChat Pay Global requires.
	MerchantCategoryCode string
}

// Payment is a created prepay order: its prepay id (valid two hours) and the
// signed wx.requestPayment arguments for the Mini Program.
type Payment struct {
	PrepayID string
	Params   *PayParams
}

var outNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-*]{6,32}$`)

func checkOutNo(what, no string) error {
	if !outNoPattern.MatchString(no) {
		return configError("%s %.70q must be 6 to 32 of [0-9A-Za-z_-*]", what, no)
	}
	return nil
}

type amountJSON struct {
	Total    int64  `json:"total"`
	Currency string `json:"currency,omitempty"`
}

type payerJSON struct {
	OpenID    string `json:"openid,omitempty"`
	SpOpenID  string `json:"sp_openid,omitempty"`
	SubOpenID string `json:"sub_openid,omitempty"`
}

type sceneJSON struct {
	PayerClientIP string `json:"payer_client_ip"`
}

type prepayJSON struct {
	AppID      string `json:"appid,omitempty"`
	MchID      string `json:"mchid,omitempty"`
	SpAppID    string `json:"sp_appid,omitempty"`
	SpMchID    string `json:"sp_mchid,omitempty"`
	SubAppID   string `json:"sub_appid,omitempty"`
	SubMchID   string `json:"sub_mchid,omitempty"`
	Desc       string `json:"description"`
	OutTradeNo string `json:"out_trade_no"`
	TimeExpire string `json:"time_expire,omitempty"`
	Attach     string `json:"attach,omitempty"`
	NotifyURL  string `json:"notify_url"`
	GoodsTag   string `json:"goods_tag,omitempty"`
	// Global only.
	TradeType string `json:"trade_type,omitempty"`
	MCC       string `json:"merchant_category_code,omitempty"`

	Amount amountJSON `json:"amount"`
	Payer  payerJSON  `json:"payer"`
	Scene  *sceneJSON `json:"scene_info,omitempty"`
}

// Prepay creates a JSAPI order (direct: /v3/pay/transactions/jsapi;
// partner: /v3/pay/partner/transactions/jsapi; Global:
// /v3/global/transactions/jsapi) and signs the wx.requestPayment arguments.
// Bad input fails locally with ErrConfig and sends nothing.
func (c *Client) Prepay(ctx context.Context, r PrepayRequest) (*Payment, error) {
	if err := checkOutNo("out_trade_no", r.OutTradeNo); err != nil {
		return nil, err
	}
	switch {
	case r.Description == "" || len(r.Description) > 127:
		return nil, configError("description must be 1 to 127 bytes")
	case r.Amount <= 0:
		return nil, configError("amount must be positive, not %d", r.Amount)
	case r.OpenID == "":
		return nil, configError("the payer's openid is required")
	case r.NotifyURL == "":
		return nil, configError("notify_url is required")
	}
	if u, err := url.Parse(r.NotifyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, configError("notify_url must be an absolute URL without query")
	}
	body := prepayJSON{
		Desc: r.Description, OutTradeNo: r.OutTradeNo, Attach: r.Attach, NotifyURL: r.NotifyURL, GoodsTag: r.GoodsTag,
		Amount: amountJSON{Total: r.Amount, Currency: r.Currency},
	}
	if !r.TimeExpire.IsZero() {
		body.TimeExpire = r.TimeExpire.In(cst).Format(time.RFC3339)
	}
	if r.PayerClientIP != "" {
		body.Scene = &sceneJSON{PayerClientIP: r.PayerClientIP}
	}
	if c.institutional() {
		body.SpMchID, body.SubMchID, body.SpAppID, body.SubAppID = c.mchID, c.subMchID, c.appID, c.subAppID
		if c.subAppID != "" {
			body.Payer.SubOpenID = r.OpenID
		} else {
			body.Payer.SpOpenID = r.OpenID
		}
	} else {
		body.MchID, body.AppID = c.mchID, c.appID
		body.Payer.OpenID = r.OpenID
	}
	path := "/v3/pay/transactions/jsapi"
	switch c.mode {
	case ModePartner:
		path = "/v3/pay/partner/transactions/jsapi"
	case ModeGlobal:
		path = "/v3/global/transactions/jsapi"
		if r.Currency == "" {
			return nil, configError("WeChat Pay Global needs the currency")
		}
		if r.MerchantCategoryCode == "" {
			return nil, configError("WeChat Pay Global needs the merchant category code (MCC)")
		}
		body.TradeType, body.MCC = "JSAPI", r.MerchantCategoryCode
	}
	if c.mode != ModeGlobal {
		if r.MerchantCategoryCode != "" {
			return nil, configError("merchant category code is for WeChat Pay Global only")
		}
		if body.Amount.Currency == "" {
			body.Amount.Currency = "CNY"
		}
	}
	var out struct {
		PrepayID string `json:"prepay_id"`
	}
	if _, err := c.do(ctx, call{op: "prepay", method: "POST", path: path, in: body, out: &out}); err != nil {
		return nil, err
	}
	if out.PrepayID == "" {
		return nil, unavailable("prepay", "the answer has no prepay_id", nil)
	}
	p, err := c.PayParams(out.PrepayID, "")
	if err != nil {
		return nil, err
	}
	return &Payment{PrepayID: out.PrepayID, Params: p}, nil
}

// Transaction is an order as WeChat Pay reports it in queries and payment
// notifications. Partner and Global institutional orders fill SpAppID,
// SpMchID, SubAppID and SubMchID instead of AppID and MchID.
type Transaction struct {
	AppID          string    `json:"appid,omitempty"`
	MchID          string    `json:"mchid,omitempty"`
	SpAppID        string    `json:"sp_appid,omitempty"`
	SpMchID        string    `json:"sp_mchid,omitempty"`
	SubAppID       string    `json:"sub_appid,omitempty"`
	SubMchID       string    `json:"sub_mchid,omitempty"`
	OutTradeNo     string    `json:"out_trade_no"`
	TransactionID  string    `json:"transaction_id,omitempty"`
	TradeType      string    `json:"trade_type,omitempty"`
	TradeState     string    `json:"trade_state"`
	TradeStateDesc string    `json:"trade_state_desc,omitempty"`
	BankType       string    `json:"bank_type,omitempty"`
	Attach         string    `json:"attach,omitempty"`
	SuccessTime    string    `json:"success_time,omitempty"` // RFC 3339, +08:00
	Payer          Payer     `json:"payer"`
	Amount         TxnAmount `json:"amount"`
}

// Payer identifies who paid: OpenID (direct, Global common mode), or
// SpOpenID / SubOpenID (partner).
type Payer struct {
	OpenID    string `json:"openid,omitempty"`
	SpOpenID  string `json:"sp_openid,omitempty"`
	SubOpenID string `json:"sub_openid,omitempty"`
}

// TxnAmount is what was ordered (Total, Currency) and what the payer paid
// (PayerTotal, PayerCurrency: CNY in WeChat Pay Global).
type TxnAmount struct {
	Total         int64         `json:"total"`
	PayerTotal    int64         `json:"payer_total,omitempty"`
	Currency      string        `json:"currency,omitempty"`
	PayerCurrency string        `json:"payer_currency,omitempty"`
	ExchangeRate  *ExchangeRate `json:"exchange_rate,omitempty"`
}

// ExchangeRate is the rate WeChat Pay Global applied, Rate in units of
// 10⁻⁸ (the field names of Global are unconfirmed by the reference).
type ExchangeRate struct {
	Type string `json:"type"`
	Rate int64  `json:"rate"`
}

// Paid reports whether money was taken: SUCCESS, or REFUND (paid, then
// refunded in whole or in part).
func (t *Transaction) Paid() bool { return t.TradeState == StateSuccess || t.TradeState == StateRefund }

// txnBase is the path prefix of transactions in the client's mode.
func (c *Client) txnBase() string {
	switch c.mode {
	case ModePartner:
		return "/v3/pay/partner/transactions"
	case ModeGlobal:
		return "/v3/global/transactions"
	}
	return "/v3/pay/transactions"
}

// mchQuery is the query naming the merchant on GET requests.
func (c *Client) mchQuery() string {
	if c.institutional() {
		return "sp_mchid=" + c.mchID + "&sub_mchid=" + c.subMchID
	}
	return "mchid=" + c.mchID
}

// QueryByOutTradeNo returns the order with our order number. An unknown
// order is an *APIError ORDER_NOT_EXIST (HTTP 404).
func (c *Client) QueryByOutTradeNo(ctx context.Context, outTradeNo string) (*Transaction, error) {
	if err := checkOutNo("out_trade_no", outTradeNo); err != nil {
		return nil, err
	}
	var t Transaction
	_, err := c.do(ctx, call{op: "query", method: "GET", path: c.txnBase() + "/out-trade-no/" + url.PathEscape(outTradeNo) + "?" + c.mchQuery(), out: &t})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

var txnIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)

// QueryByTransactionID returns the order with WeChat Pay's transaction id.
func (c *Client) QueryByTransactionID(ctx context.Context, transactionID string) (*Transaction, error) {
	if !txnIDPattern.MatchString(transactionID) {
		return nil, configError("transaction_id %.70q must be letters and digits", transactionID)
	}
	var t Transaction
	_, err := c.do(ctx, call{op: "query", method: "GET", path: c.txnBase() + "/id/" + transactionID + "?" + c.mchQuery(), out: &t})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Close closes an unpaid order so that it can no longer be paid (HTTP 204).
// Closing a paid order fails with ORDERPAID; closing a closed order
// succeeds. Query afterwards if the outcome matters: a payment may have
// landed just before.
func (c *Client) Close(ctx context.Context, outTradeNo string) error {
	if err := checkOutNo("out_trade_no", outTradeNo); err != nil {
		return err
	}
	var body any = map[string]string{"mchid": c.mchID}
	if c.institutional() {
		body = map[string]string{"sp_mchid": c.mchID, "sub_mchid": c.subMchID}
	}
	_, err := c.do(ctx, call{op: "close", method: "POST", path: c.txnBase() + "/out-trade-no/" + url.PathEscape(outTradeNo) + "/close", in: body})
	return err
}

// cst is China Standard Time, the zone WeChat Pay writes times in.
var cst = time.FixedZone("CST", 8*3600)
