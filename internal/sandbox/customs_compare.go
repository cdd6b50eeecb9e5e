package sandbox

// The customs agent's 三单 comparison: an order declaration (CEB311)
// against the payment declaration the sandbox's WeChat Pay pushed for the
// same customs order number (the CEB411 customs would receive).

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// payDecls is what the sandbox's WeChat Pay holds about the customs
// declarations of one payment.
type payDecls struct {
	total    int64 // the payment's amount, fen
	refunded bool  // a refund was made since (declared amounts may differ)
	records  []struct {
		OutTradeNo string `json:"out_trade_no"`
		SubOrderNo string `json:"sub_order_no"`
		OrderFee   int64  `json:"order_fee"`
		State      string `json:"state"`
	}
}

// payDeclsOf returns how the agent reads the payment declarations of a
// transaction: through the WeChat Pay sandbox's control endpoint lookup
// (in process), for the merchant and order the transaction belongs to.
// known is false for a transaction the sandbox did not make.
func (s *Server) payDeclsOf(lookup http.HandlerFunc) func(txn string) (payDecls, bool) {
	return func(txn string) (payDecls, bool) {
		if lookup == nil || txn == "" || s.pay == nil {
			return payDecls{}, false
		}
		s.pay.mu.Lock()
		o := s.pay.txns[txn]
		var req map[string]string
		var out payDecls
		if o != nil {
			req = map[string]string{"mchid": o.mchID, "sub_mchid": o.subMchID, "out_trade_no": o.outTradeNo}
			out.total, out.refunded = o.total, o.refunded > 0 || o.state == "REFUND"
		}
		s.pay.mu.Unlock()
		if o == nil {
			return payDecls{}, false
		}
		body, _ := json.Marshal(req)
		r, _ := http.NewRequest(http.MethodPost, "/sandbox/v1/pay/customs-declarations", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := &memResponse{header: http.Header{}, status: http.StatusOK}
		lookup(w, r)
		var got struct {
			Records json.RawMessage `json:"records"`
		}
		if w.status != http.StatusOK || json.Unmarshal(w.body.Bytes(), &got) != nil || json.Unmarshal(got.Records, &out.records) != nil {
			return payDecls{}, false
		}
		return out, true
	}
}

// memResponse is an in-memory http.ResponseWriter.
type memResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (m *memResponse) Header() http.Header         { return m.header }
func (m *memResponse) Write(b []byte) (int, error) { return m.body.Write(b) }
func (m *memResponse) WriteHeader(status int)      { m.status = status }

// compare makes the 三单 comparison of declaration d once (c.mu held): the
// reason it fails, or "" when it passes or there is nothing to compare
// with (a payment the sandbox did not make, or whose payment was not
// declared); wait until the payment declaration of d's number succeeded at
// WeChat Pay.
func (c *customsState) compare(d *customsDecl) (mismatch string, wait bool) {
	if d.compared || c.pays == nil {
		return d.mismatch, false
	}
	p, known := c.pays(d.txn)
	if !known || len(p.records) == 0 {
		d.compared = true
		return "", false
	}
	split, found := false, false
	for _, r := range p.records {
		split = split || r.SubOrderNo != ""
		if r.SubOrderNo != d.orderNo && (r.SubOrderNo != "" || r.OutTradeNo != d.orderNo) {
			continue
		}
		found = true
		switch {
		case r.State != "SUCCESS":
			return "", true // customs has no payment record of it yet (a failed one may be declared again)
		case r.SubOrderNo != "" && r.OrderFee != d.paid:
			d.mismatch = "订单实付金额(acturalPaid)与支付单金额(order_fee)不一致"
		case r.SubOrderNo == "" && !p.refunded && p.total != d.paid:
			d.mismatch = "订单实付金额(acturalPaid)与支付金额不一致"
		}
	}
	switch {
	case !found && split:
		d.mismatch = "支付单已拆单申报, 订单编号(orderNo)须为其子订单号(sub_order_no)"
	case !found:
		d.mismatch = "订单编号(orderNo)与支付单不一致"
	}
	d.compared = true
	return d.mismatch, false
}
