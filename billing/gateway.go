// Package billing is the payment side of Minishop: it connects orders
// (shop) to WeChat Pay (billing/wechatpay).
package billing

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/shop"
)

// Gateway implements shop.PaymentGateway with WeChat Pay, and turns
// payment notifications into shop.Service.MarkPaid calls.
type Gateway struct {
	// Client returns the WeChat Pay client of the tenant in ctx: its test
	// credentials against the sandbox, or its live ones. It returns an
	// *errs.Error (for example conflict "payments_not_configured") when the
	// tenant has none.
	Client func(ctx context.Context) (*wechatpay.Client, error)
	// NotifyURL returns the notify_url of the tenant in ctx, an absolute
	// URL that reaches HandleNotification for that tenant.
	NotifyURL func(ctx context.Context) (string, error)
	// RefundNotifyURL returns the notify_url of refunds of the tenant in
	// ctx; nil or "" means refunds are not notified (queries only).
	RefundNotifyURL func(ctx context.Context) (string, error)
	// Paid records a payment reported by WeChat Pay (shop.Service.MarkPaid).
	Paid func(ctx context.Context, tenantID int64, outTradeNo, transactionID string, amountFen int64, paidAt time.Time) error
	// Refunded records the outcome of a refund (shop.Service.RefundNotified);
	// nil ignores refund notifications.
	Refunded func(ctx context.Context, tenantID int64, r shop.RefundOutcome) error
	// MCC is the merchant category code sent by WeChat Pay Global merchants.
	MCC string
}

var (
	_ shop.PaymentGateway = (*Gateway)(nil)
	_ shop.PaymentQuerier = (*Gateway)(nil)
)

// Prepay creates the WeChat Pay order of o (idempotent by out_trade_no) and
// returns the signed wx.requestPayment parameters.
func (g *Gateway) Prepay(ctx context.Context, o *shop.Order, openid string) (*shop.PayParams, error) {
	c, err := g.Client(ctx)
	if err != nil {
		return nil, err
	}
	notify, err := g.NotifyURL(ctx)
	if err != nil {
		return nil, err
	}
	req := wechatpay.PrepayRequest{OutTradeNo: o.OutTradeNo, Description: "Order " + o.OutTradeNo, NotifyURL: notify,
		Amount: o.ActuralPaid, Currency: o.Currency, OpenID: openid, TimeExpire: o.ExpiresAt}
	if c.Mode() == wechatpay.ModeGlobal {
		req.MerchantCategoryCode = g.MCC
	} else if req.Currency != "" && req.Currency != "CNY" {
		return nil, errs.E(errs.Unprocessable, "currency_not_supported", "this merchant account takes CNY only")
	}
	if time.Until(o.ExpiresAt) < 90*time.Second {
		req.TimeExpire = time.Time{} // WeChat Pay wants at least a minute; the order's own deadline still applies
	}
	p, err := c.Prepay(ctx, req)
	if err != nil {
		return nil, payError("prepay", err)
	}
	return &shop.PayParams{TimeStamp: p.Params.TimeStamp, NonceStr: p.Params.NonceStr, Package: p.Params.Package,
		SignType: p.Params.SignType, PaySign: p.Params.PaySign}, nil
}

// Close closes o at WeChat Pay: nil when closed or unknown there, a
// conflict when it was paid meanwhile.
func (g *Gateway) Close(ctx context.Context, o *shop.Order) error {
	c, err := g.Client(ctx)
	if err != nil {
		return err
	}
	err = c.Close(ctx, o.OutTradeNo)
	switch {
	case err == nil, wechatpay.IsCode(err, "ORDER_NOT_EXIST"):
		return nil
	case wechatpay.IsCode(err, "ORDERPAID"):
		return errs.E(errs.Conflict, "order_paid", "the order was paid at WeChat Pay before it could be closed")
	}
	return payError("close", err)
}

// Refund asks WeChat Pay for the refund, idempotent by r.OutRefundNo.
func (g *Gateway) Refund(ctx context.Context, o *shop.Order, r shop.RefundRequest) error {
	c, err := g.Client(ctx)
	if err != nil {
		return err
	}
	req := wechatpay.RefundRequest{OutRefundNo: r.OutRefundNo, TransactionID: r.TransactionID, Refund: r.RefundFen,
		Total: r.TotalFen, Reason: r.Reason, Currency: o.Currency}
	if req.TransactionID == "" {
		req.OutTradeNo = o.OutTradeNo
	}
	if g.RefundNotifyURL != nil {
		if req.NotifyURL, err = g.RefundNotifyURL(ctx); err != nil {
			return err
		}
	}
	if _, err := c.Refund(ctx, req); err != nil {
		return payError("refund", err)
	}
	return nil
}

// QueryPayment asks WeChat Pay whether o was paid: the payment when it
// was (SUCCESS, or REFUND: paid then refunded), nil when not (yet), an
// error to retry later.
func (g *Gateway) QueryPayment(ctx context.Context, o *shop.Order) (*shop.PaymentReport, error) {
	c, err := g.Client(ctx)
	if err != nil {
		return nil, err
	}
	t, err := c.QueryByOutTradeNo(ctx, o.OutTradeNo)
	switch {
	case wechatpay.IsCode(err, "ORDER_NOT_EXIST"):
		return nil, nil
	case err != nil:
		return nil, payError("query", err)
	case !c.OwnsTransaction(t) || t.OutTradeNo != o.OutTradeNo:
		return nil, errs.E(errs.Internal, "payment_mismatch", "WeChat Pay answered the query with another merchant's or order's transaction")
	case !t.Paid() || t.TransactionID == "":
		return nil, nil
	}
	return &shop.PaymentReport{TransactionID: t.TransactionID, AmountFen: t.Amount.Total, PaidAt: successTime(t.SuccessTime)}, nil
}

func successTime(s string) time.Time {
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Now()
	}
	return at
}

// HandleNotification verifies and opens a notification posted for
// tenantID (payment or refund: both notify URLs come here) and records it
// with Paid or Refunded, which apply it once however often it comes. It
// returns the HTTP status to answer: 204 when done (or nothing to do), 401
// for a signature that does not verify (probes, unknown serials, stale
// timestamps, altered bodies), 400 for a body that does not open or names
// another merchant, 500 when recording failed and WeChat Pay should retry.
// The error, if any, is for the log and the FAIL message.
func (g *Gateway) HandleNotification(ctx context.Context, tenantID int64, header http.Header, body []byte) (int, error) {
	c, err := g.Client(ctx)
	if err != nil {
		return http.StatusInternalServerError, err
	}
	n, err := c.ParseNotification(header, body)
	switch {
	case errors.Is(err, wechatpay.ErrInvalidSignature):
		return http.StatusUnauthorized, err
	case err != nil:
		return http.StatusBadRequest, err
	}
	if r := n.Refund; r != nil {
		if !c.OwnsRefund(r) {
			return http.StatusBadRequest, errors.New("the refund names another merchant")
		}
		if g.Refunded == nil {
			return http.StatusNoContent, nil
		}
		out := shop.RefundOutcome{OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, RefundID: r.RefundID,
			TransactionID: r.TransactionID, Status: r.RefundStatus, At: successTime(r.SuccessTime)}
		if r.Amount != nil {
			out.AmountFen = r.Amount.Refund
		}
		return recorded(g.Refunded(ctx, tenantID, out))
	}
	t := n.Transaction
	if t == nil || t.TradeState != wechatpay.StateSuccess {
		return http.StatusNoContent, nil // other states: nothing to record
	}
	if !c.OwnsTransaction(t) {
		return http.StatusBadRequest, errors.New("the transaction names another merchant")
	}
	// What the order was charged, in its own currency (Global: not what
	// the payer paid in CNY); MarkPaid compares it with the order.
	return recorded(g.Paid(ctx, tenantID, t.OutTradeNo, t.TransactionID, t.Amount.Total, successTime(t.SuccessTime)))
}

// recorded turns the result of recording a notification into the status
// to answer.
func recorded(err error) (int, error) {
	switch {
	case err == nil:
		return http.StatusNoContent, nil
	case errs.Is(err, errs.NotFound):
		return http.StatusNoContent, nil // not an order of ours: nothing will change by retrying
	case errs.Is(err, errs.Invalid):
		return http.StatusBadRequest, err
	}
	return http.StatusInternalServerError, err
}

// payError maps a client error to the house error type; WeChat Pay's own
// refusal code and message are kept for the log and the user.
func payError(op string, err error) error {
	var ae *wechatpay.APIError
	switch {
	case errors.Is(err, wechatpay.ErrUnavailable):
		return &errs.Error{Kind: errs.Unavailable, Code: "payments_unavailable", Message: "WeChat Pay cannot be reached; try again in a moment", Err: err}
	case errors.Is(err, wechatpay.ErrInvalidSignature):
		return &errs.Error{Kind: errs.Unavailable, Code: "payments_unavailable", Message: "WeChat Pay's answer could not be verified; try again in a moment", Err: err}
	case errors.Is(err, wechatpay.ErrConfig):
		return &errs.Error{Kind: errs.Invalid, Code: "payment_request_invalid", Message: "the " + op + " cannot be sent to WeChat Pay: " + err.Error(), Err: err}
	case errors.As(err, &ae):
		return &errs.Error{Kind: errs.Unprocessable, Code: "wechatpay_" + ae.Code, Message: "WeChat Pay refused the " + op + ": " + ae.Message, Err: err}
	}
	return errs.Wrap(err, "wechat pay "+op)
}
