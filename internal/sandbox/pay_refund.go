package sandbox

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// payRefund is a refund of an order.
type payRefund struct {
	order       *payOrder
	refundID    string
	outRefundNo string
	reason      string
	notifyURL   string
	amount      int64
	status      string // PROCESSING, SUCCESS, ABNORMAL, CLOSED
	created     time.Time
	success     time.Time
}

func refundKey(mchID, subMchID, outRefundNo string) string {
	return mchID + "/" + subMchID + "/" + outRefundNo
}

type refundBody struct {
	MchID         string `json:"mchid"`
	SpMchID       string `json:"sp_mchid"`
	SubMchID      string `json:"sub_mchid"`
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        *struct {
		Refund   *int64 `json:"refund"`
		Total    *int64 `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// refund serves POST /v3/refund/domestic/refunds and /v3/global/refunds. A
// new refund is PROCESSING; it settles after the merchant's refund delay
// (one minute, scaled) with the outcome set by notify-settings, and the
// refund notification goes to notify_url if one was given.
func (s *Server) refund(global bool) payHandler {
	return func(req *payReq) (int, any, *payAPIError) {
		var b refundBody
		if e := decodePay(req.body, &b); e != nil {
			return 0, nil, e
		}
		var sub string
		var e *payAPIError
		if global {
			sub, e = s.checkMerchant(req, payGlobal, b.MchID, b.SpMchID, b.SubMchID)
		} else {
			// Domestic refunds name only the sub-merchant, if any.
			switch req.kind {
			case mchDirect:
				if b.SubMchID != "" {
					return 0, nil, paramError("普通商户不可传 sub_mchid")
				}
			case mchServiceProvider:
				sub, e = s.checkMerchant(req, payPartner, "", req.mchID, b.SubMchID)
			default:
				e = perr(http.StatusForbidden, "NOAUTH", "境外商户请使用 /v3/global/refunds")
			}
		}
		if e != nil {
			return 0, nil, e
		}
		switch {
		case !outRefundNoPattern.MatchString(b.OutRefundNo):
			return 0, nil, paramError("out_refund_no 应为 1-64 位数字、大小写字母、_-|*@")
		case (b.OutTradeNo == "") == (b.TransactionID == ""):
			return 0, nil, paramError("transaction_id 与 out_trade_no 必须且只能传一个")
		case b.Amount == nil || b.Amount.Refund == nil || b.Amount.Total == nil:
			return 0, nil, paramError("amount.refund 与 amount.total 为必填参数")
		case *b.Amount.Refund <= 0:
			return 0, nil, paramError("amount.refund 应为正整数")
		case len(b.Reason) > 80:
			return 0, nil, paramError("reason 不能超过 80 字节")
		case b.NotifyURL != "" && len(b.NotifyURL) > 256:
			return 0, nil, paramError("notify_url 过长")
		}
		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		var o *payOrder
		if b.TransactionID != "" {
			o = p.txns[b.TransactionID]
			if o != nil && (o.mchID != req.mchID || o.subMchID != sub) {
				o = nil
			}
		} else {
			o = p.orders[orderKey(req.mchID, sub, b.OutTradeNo)]
		}
		if o == nil || (global != (o.api == payGlobal)) {
			return 0, nil, perr(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在")
		}
		if old := p.refunds[refundKey(req.mchID, sub, b.OutRefundNo)]; old != nil {
			// out_refund_no is the idempotency key: the same refund again
			// answers the refund as it now is.
			if old.order != o || old.amount != *b.Amount.Refund {
				return 0, nil, perr(http.StatusBadRequest, "INVALID_REQUEST", "退款单号已使用，且与原退款请求参数不一致")
			}
			return http.StatusOK, old.json(), nil
		}
		cur := b.Amount.Currency
		if cur == "" {
			cur = "CNY"
		}
		switch {
		case o.state != "SUCCESS" && o.state != "REFUND":
			return 0, nil, perr(http.StatusBadRequest, "INVALID_REQUEST", "订单未支付，不能退款")
		case *b.Amount.Total != o.total:
			return 0, nil, paramError("amount.total 与订单金额不一致")
		case cur != o.currency:
			return 0, nil, paramError("amount.currency 与订单币种不一致")
		case *b.Amount.Refund > o.total-o.refunded:
			return 0, nil, perr(http.StatusBadRequest, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
		}
		rf := &payRefund{order: o, refundID: "50" + digits(27), outRefundNo: b.OutRefundNo, reason: b.Reason,
			notifyURL: b.NotifyURL, amount: *b.Amount.Refund, status: "PROCESSING", created: req.now}
		o.refunded += rf.amount
		p.refunds[refundKey(req.mchID, sub, b.OutRefundNo)] = rf
		set := p.settingsOf(o.mchID)
		outcome := set.RefundOutcome
		if outcome == "" {
			outcome = "SUCCESS"
		}
		p.schedule(p.scaled(time.Minute, set), func() { s.settleRefund(rf, outcome) })
		return http.StatusOK, rf.json(), nil
	}
}

// settleRefund ends a PROCESSING refund and sends its notification.
func (s *Server) settleRefund(rf *payRefund, outcome string) {
	p := s.pay
	p.mu.Lock()
	if rf.status != "PROCESSING" {
		p.mu.Unlock()
		return
	}
	rf.status = outcome
	now := s.now()
	switch outcome {
	case "SUCCESS":
		rf.success = now
		rf.order.state = "REFUND"
	case "CLOSED":
		rf.order.refunded -= rf.amount
	}
	plain := rf.notice()
	o := rf.order
	p.mu.Unlock()
	if rf.notifyURL != "" {
		s.notify(o.mchID, rf.notifyURL, "REFUND."+outcome, refundSummary[outcome], "refund", plain, o.outTradeNo, rf.outRefundNo, nil)
	}
}

var refundSummary = map[string]string{"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}

type refundAmountJSON struct {
	Total            int64  `json:"total"`
	Refund           int64  `json:"refund"`
	PayerTotal       int64  `json:"payer_total"`
	PayerRefund      int64  `json:"payer_refund"`
	SettlementTotal  int64  `json:"settlement_total"`
	SettlementRefund int64  `json:"settlement_refund"`
	DiscountRefund   int64  `json:"discount_refund"`
	Currency         string `json:"currency"`
}

type refundJSON struct {
	RefundID            string           `json:"refund_id"`
	OutRefundNo         string           `json:"out_refund_no"`
	TransactionID       string           `json:"transaction_id"`
	OutTradeNo          string           `json:"out_trade_no"`
	Channel             string           `json:"channel"`
	UserReceivedAccount string           `json:"user_received_account"`
	SuccessTime         string           `json:"success_time,omitempty"`
	CreateTime          string           `json:"create_time"`
	Status              string           `json:"status"`
	FundsAccount        string           `json:"funds_account"`
	Amount              refundAmountJSON `json:"amount"`
}

// json renders the refund. Callers hold p.mu.
func (rf *payRefund) json() refundJSON {
	o := rf.order
	r := refundJSON{RefundID: rf.refundID, OutRefundNo: rf.outRefundNo, TransactionID: o.txnID, OutTradeNo: o.outTradeNo,
		Channel: "ORIGINAL", UserReceivedAccount: "支付用户零钱", CreateTime: rf.created.In(cst).Format(time.RFC3339),
		Status: rf.status, FundsAccount: "AVAILABLE",
		Amount: refundAmountJSON{Total: o.total, Refund: rf.amount, PayerTotal: o.total, PayerRefund: rf.amount,
			SettlementTotal: o.total, SettlementRefund: rf.amount, Currency: o.currency}}
	if !rf.success.IsZero() {
		r.SuccessTime = rf.success.In(cst).Format(time.RFC3339)
	}
	return r
}

// notice is the plaintext of the refund notification. Callers hold p.mu.
func (rf *payRefund) notice() any {
	o := rf.order
	n := struct {
		MchID               string `json:"mchid,omitempty"`
		SpMchID             string `json:"sp_mchid,omitempty"`
		SubMchID            string `json:"sub_mchid,omitempty"`
		OutTradeNo          string `json:"out_trade_no"`
		TransactionID       string `json:"transaction_id"`
		RefundID            string `json:"refund_id"`
		OutRefundNo         string `json:"out_refund_no"`
		RefundStatus        string `json:"refund_status"`
		SuccessTime         string `json:"success_time,omitempty"`
		UserReceivedAccount string `json:"user_received_account"`
		Amount              struct {
			Total       int64 `json:"total"`
			Refund      int64 `json:"refund"`
			PayerTotal  int64 `json:"payer_total"`
			PayerRefund int64 `json:"payer_refund"`
		} `json:"amount"`
	}{OutTradeNo: o.outTradeNo, TransactionID: o.txnID, RefundID: rf.refundID, OutRefundNo: rf.outRefundNo,
		RefundStatus: rf.status, UserReceivedAccount: "支付用户零钱"}
	if o.subMchID != "" {
		n.SpMchID, n.SubMchID = o.mchID, o.subMchID
	} else {
		n.MchID = o.mchID
	}
	if !rf.success.IsZero() {
		n.SuccessTime = rf.success.In(cst).Format(time.RFC3339)
	}
	n.Amount.Total, n.Amount.Refund, n.Amount.PayerTotal, n.Amount.PayerRefund = o.total, rf.amount, o.total, rf.amount
	return n
}

// refundQuery serves GET /v3/refund/domestic/refunds/{no}[?sub_mchid=] and
// GET /v3/global/refunds/out-refund-no/{no}?mchid=….
func (s *Server) refundQuery(global bool) payHandler {
	return func(req *payReq) (int, any, *payAPIError) {
		var sub string
		var e *payAPIError
		q := req.r.URL.Query()
		if global {
			sub, e = s.merchantOfQuery(req, payGlobal)
		} else if q.Get("sub_mchid") != "" || req.kind == mchServiceProvider {
			sub, e = s.checkMerchant(req, payPartner, "", req.mchID, q.Get("sub_mchid"))
		}
		if e != nil {
			return 0, nil, e
		}
		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		rf := p.refunds[refundKey(req.mchID, sub, req.r.PathValue("no"))]
		if rf == nil || global != (rf.order.api == payGlobal) {
			return 0, nil, perr(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
		}
		return http.StatusOK, rf.json(), nil
	}
}

// digits returns n random decimal digits (identifiers, not secrets).
func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rand.IntN(10))
	}
	return string(b)
}
