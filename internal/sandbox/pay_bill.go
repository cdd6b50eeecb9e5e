package sandbox

// The WeChat Pay trade bill (GET /v3/bill/tradebill and the file download).
// The bill of a merchant and day is made from the in-memory payments and
// refunds whose success time falls on that day (China time), in the real
// format: UTF-8 BOM, the ALL header of 27 columns, every field prefixed
// with a backtick, CRLF, the summary header and row at the end, amounts in
// yuan, the fee at 0.60 % with five decimals (negative on refund rows).
// Control endpoints inject faults into a day's bill (a payment or refund
// we never made, a changed amount, a missing row) and generate a large
// bill for benchmarks. Bill state lives in the closures mountPayBill
// registers.

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	billTokenLife = 5 * time.Minute
	billMaxGen    = 5_000_000
	billFeeRate   = 6 // 10⁻⁵ yuan of fee per fen: 0.60 %
)

var billHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"

const billSummaryHeader = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"

// billRow is one detail row of a sandbox bill.
type billRow struct {
	at                        time.Time
	appID, mchID, subMchID    string
	txnID, outTradeNo, openID string
	state                     string // SUCCESS or REFUND
	total                     int64  // the order's amount, fen
	refundID, outRefundNo     string
	refund                    int64
	goods                     string
}

// billFault is a control injection into one merchant's day.
type billFault struct {
	Kind          string `json:"kind"` // payment, refund, amount, drop
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id,omitempty"`
	OutRefundNo   string `json:"out_refund_no,omitempty"`
	Amount        int64  `json:"amount,omitempty"`
	Total         int64  `json:"total,omitempty"`
}

type billDay struct {
	faults   []billFault
	generate int
}

type billFile struct {
	write   func(io.Writer) error
	expires time.Time
	mchID   string
}

type billState struct {
	mu    sync.Mutex
	days  map[string]*billDay // mchid/sub/date
	files map[string]*billFile
}

// mountPayBill registers the trade bill endpoints and their controls.
func (s *Server) mountPayBill(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	b := &billState{days: map[string]*billDay{}, files: map[string]*billFile{}}
	mux.HandleFunc("GET /v3/bill/tradebill", s.payEndpoint("tradebill", func(req *payReq) (int, any, *payAPIError) {
		return s.tradeBill(b, req)
	}))
	mux.HandleFunc("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) { s.billDownload(b, w, r) })
	control["/sandbox/v1/pay/bill-faults"] = func(w http.ResponseWriter, r *http.Request) { s.controlBillFaults(b, w, r) }
}

func billKey(mchID, sub, date string) string { return mchID + "/" + sub + "/" + date }

func (s *Server) tradeBill(b *billState, req *payReq) (int, any, *payAPIError) {
	q := req.r.URL.Query()
	date := q.Get("bill_date")
	day, err := time.ParseInLocation("2006-01-02", date, cst)
	switch {
	case err != nil:
		return 0, nil, paramError("bill_date 格式应为 YYYY-MM-DD")
	case day.After(req.now.In(cst)):
		return 0, nil, paramError("bill_date 不能晚于今天")
	case req.now.Sub(day) > 92*24*time.Hour:
		return 0, nil, paramError("仅可下载三个月内的账单")
	case q.Get("bill_type") != "" && q.Get("bill_type") != "ALL":
		return 0, nil, paramError("沙箱仅支持 bill_type=ALL")
	case q.Get("tar_type") != "" && q.Get("tar_type") != "GZIP":
		return 0, nil, paramError("沙箱仅支持 tar_type=GZIP")
	}
	sub := ""
	switch req.kind {
	case mchServiceProvider, mchGlobalSP:
		sub = q.Get("sub_mchid")
		if sub != "" && !s.validMch(sub, mchSub, req.mchID) {
			return 0, nil, perr(http.StatusForbidden, "NOAUTH", "特约商户与服务商不存在绑定关系")
		}
	default:
		if q.Get("sub_mchid") != "" {
			return 0, nil, paramError("普通商户不可传 sub_mchid")
		}
	}
	rows := s.billRows(req.mchID, sub, day)
	b.mu.Lock()
	d := b.days[billKey(req.mchID, sub, date)]
	var faults []billFault
	gen := 0
	if d != nil {
		faults, gen = append(faults, d.faults...), d.generate
	}
	b.mu.Unlock()
	rows = applyBillFaults(rows, faults, req.mchID, sub, day)
	if len(rows) == 0 && gen == 0 {
		return 0, nil, perr(http.StatusBadRequest, "NO_STATEMENT_EXIST", "要下载的账单不存在")
	}
	mchID := req.mchID
	write := func(w io.Writer) error { return writeBill(w, rows, gen, mchID, sub, day) }
	h := sha1.New()
	if err := write(h); err != nil {
		return 0, nil, perr(http.StatusInternalServerError, "SYSTEM_ERROR", "系统繁忙,请稍后重试")
	}
	token := randomString(alnum, 40)
	b.mu.Lock()
	for k, f := range b.files {
		if req.now.After(f.expires) {
			delete(b.files, k)
		}
	}
	b.files[token] = &billFile{write: write, expires: req.now.Add(billTokenLife), mchID: req.mchID}
	b.mu.Unlock()
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	return http.StatusOK, map[string]string{
		"hash_type":    "SHA1",
		"hash_value":   hex.EncodeToString(h.Sum(nil)),
		"download_url": scheme + "://" + req.r.Host + "/v3/billdownload/file?token=" + token,
	}, nil
}

// billRows collects the successful payments and refunds of a merchant's day.
func (s *Server) billRows(mchID, sub string, day time.Time) []billRow {
	end := day.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(day) && t.Before(end) }
	p := s.pay
	var rows []billRow
	p.mu.Lock()
	for _, o := range p.txns {
		if o.mchID != mchID || (sub != "" && o.subMchID != sub) || !in(o.successTime) {
			continue
		}
		rows = append(rows, billRow{at: o.successTime, appID: firstOf(o.appID, o.spAppID), mchID: o.mchID, subMchID: o.subMchID,
			txnID: o.txnID, outTradeNo: o.outTradeNo, openID: firstOf(o.openID, o.spOpenID, o.subOpenID), state: "SUCCESS",
			total: o.total, goods: o.description})
	}
	for _, rf := range p.refunds {
		o := rf.order
		if o.mchID != mchID || (sub != "" && o.subMchID != sub) || rf.status != "SUCCESS" || !in(rf.success) {
			continue
		}
		rows = append(rows, billRow{at: rf.success, appID: firstOf(o.appID, o.spAppID), mchID: o.mchID, subMchID: o.subMchID,
			txnID: o.txnID, outTradeNo: o.outTradeNo, openID: firstOf(o.openID, o.spOpenID, o.subOpenID), state: "REFUND",
			total: o.total, refundID: rf.refundID, outRefundNo: rf.outRefundNo, refund: rf.amount, goods: o.description})
	}
	p.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })
	return rows
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func applyBillFaults(rows []billRow, faults []billFault, mchID, sub string, day time.Time) []billRow {
	for _, f := range faults {
		switch f.Kind {
		case "drop":
			out := rows[:0]
			for _, r := range rows {
				if r.outTradeNo == f.OutTradeNo && (f.OutRefundNo == "" || r.outRefundNo == f.OutRefundNo) {
					continue
				}
				out = append(out, r)
			}
			rows = out
		case "amount":
			for i := range rows {
				if rows[i].outTradeNo == f.OutTradeNo {
					if rows[i].state == "REFUND" {
						rows[i].refund = f.Amount
					} else {
						rows[i].total = f.Amount
					}
				}
			}
		case "payment", "refund":
			r := billRow{at: day.Add(12 * time.Hour), mchID: mchID, subMchID: sub, txnID: f.TransactionID, outTradeNo: f.OutTradeNo,
				openID: "o_sandbox_injected", state: "SUCCESS", total: f.Amount, goods: "injected"}
			if r.txnID == "" {
				r.txnID = "4200" + digits(24)
			}
			if f.Kind == "refund" {
				r.state, r.total, r.refund = "REFUND", max(f.Total, f.Amount), f.Amount
				r.outRefundNo, r.refundID = f.OutRefundNo, "5030"+digits(25)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// writeBill writes the uncompressed bill: rows, then gen generated
// payments, then the summary.
func writeBill(w io.Writer, rows []billRow, gen int, mchID, sub string, day time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\uFEFF" + billHeader + "\r\n")
	var n, settle, refund, fee, order, reqRefund int64
	line := func(r billRow) {
		rowFee := r.total * billFeeRate
		refundID, outRefundNo, refundType, refundStatus := "0", "0", "", ""
		if r.state == "REFUND" {
			rowFee = -r.refund * billFeeRate
			refundID, outRefundNo, refundType, refundStatus = r.refundID, r.outRefundNo, "ORIGINAL", "SUCCESS"
		}
		sb := strings.Builder{}
		for i, f := range []string{r.at.In(cst).Format("2006-01-02 15:04:05"), r.appID, r.mchID, firstOf(r.subMchID, "0"), "",
			r.txnID, r.outTradeNo, r.openID, "JSAPI", r.state, "OTHERS", "CNY", yuan(r.total), "0.00", refundID, outRefundNo,
			yuan(r.refund), "0.00", refundType, refundStatus, r.goods, "", fen5(rowFee), "0.60%", yuan(r.total), yuan(r.refund), ""} {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('`')
			sb.WriteString(f)
		}
		sb.WriteString("\r\n")
		bw.WriteString(sb.String())
		n++
		settle += r.total
		refund += r.refund
		fee += rowFee
		order += r.total
		reqRefund += r.refund
	}
	for _, r := range rows {
		line(r)
	}
	for i := 0; i < gen; i++ {
		line(billRow{at: day.Add(time.Duration(i%86400) * time.Second), mchID: mchID, subMchID: sub,
			txnID: fmt.Sprintf("4200%024d", i), outTradeNo: fmt.Sprintf("GEN%010d", i), openID: "o_sandbox_generated",
			state: "SUCCESS", total: int64(100 + i%50000), goods: "generated, for load"})
	}
	bw.WriteString(billSummaryHeader + "\r\n")
	fmt.Fprintf(bw, "`%d,`%s,`%s,`0.00,`%s,`%s,`%s\r\n", n, yuan(settle), yuan(refund), fen5(fee), yuan(order), yuan(reqRefund))
	return bw.Flush()
}

// yuan formats fen as yuan with two decimals; fen5 formats 10⁻⁵ yuan.
func yuan(f int64) string { return decimal(f, 2) }
func fen5(f int64) string { return decimal(f, 5) }

func decimal(n int64, scale int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprintf("%0*d", scale+1, n)
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// billDownload serves GET /v3/billdownload/file?token=…: signed like any
// request, answered with the gzipped file and no signature.
func (s *Server) billDownload(b *billState, w http.ResponseWriter, r *http.Request) {
	now := s.now()
	req := &payReq{r: r, now: now}
	if e := s.authenticate(req); e != nil {
		s.payWrite(w, r, req.mchID, now, 0, nil, e)
		return
	}
	b.mu.Lock()
	f := b.files[r.URL.Query().Get("token")]
	b.mu.Unlock()
	if f == nil || now.After(f.expires) || f.mchID != req.mchID {
		s.payWrite(w, r, req.mchID, now, 0, nil, perr(http.StatusNotFound, "NOT_FOUND", "账单下载链接不存在或已过期"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	gz := gzip.NewWriter(w)
	if err := f.write(gz); err == nil {
		_ = gz.Close()
	}
}

// controlBillFaults serves POST /sandbox/v1/pay/bill-faults:
// {"mch_id","sub_mch_id"?,"date":"YYYY-MM-DD","faults":[{kind,…}],"generate"?}.
// Kinds: payment (a payment row nobody asked for: out_trade_no, amount,
// transaction_id?), refund (a refund row: out_trade_no, out_refund_no,
// amount, total?, transaction_id?), amount (change the amount of the rows
// of out_trade_no), drop (remove the rows of out_trade_no, or only the
// refund out_refund_no). generate adds that many synthetic payments. The
// faults add to the day's earlier ones.
func (s *Server) controlBillFaults(b *billState, w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID    string      `json:"mch_id"`
		SubMchID string      `json:"sub_mch_id"`
		Date     string      `json:"date"`
		Faults   []billFault `json:"faults"`
		Generate int         `json:"generate"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if s.signingKind(req.MchID) == "" {
		writeControlError(w, http.StatusBadRequest, "invalid", `"mch_id" must be a sandbox signing merchant`)
		return
	}
	if _, err := time.Parse("2006-01-02", req.Date); err != nil {
		writeControlError(w, http.StatusBadRequest, "invalid", `"date" must be YYYY-MM-DD`)
		return
	}
	if req.Generate < 0 || req.Generate > billMaxGen || len(req.Faults) > 1000 {
		writeControlError(w, http.StatusBadRequest, "invalid", fmt.Sprintf(`"generate" must be 0..%d and "faults" at most 1000`, billMaxGen))
		return
	}
	for _, f := range req.Faults {
		ok := outTradeNoPattern.MatchString(f.OutTradeNo) && f.Amount >= 0
		switch f.Kind {
		case "payment", "amount":
			ok = ok && f.Amount > 0
		case "refund":
			ok = ok && f.Amount > 0 && outRefundNoPattern.MatchString(f.OutRefundNo)
		case "drop":
		default:
			ok = false
		}
		if !ok {
			writeControlError(w, http.StatusBadRequest, "invalid", `each fault needs "kind" (payment, refund, amount, drop), a valid "out_trade_no", a positive "amount" (payment, refund, amount) and "out_refund_no" (refund)`)
			return
		}
	}
	b.mu.Lock()
	k := billKey(req.MchID, req.SubMchID, req.Date)
	d := b.days[k]
	if d == nil {
		if len(b.days) >= 10_000 {
			b.mu.Unlock()
			writeControlError(w, http.StatusTooManyRequests, "too_many", "too many bill days with faults")
			return
		}
		d = &billDay{}
		b.days[k] = d
	}
	d.faults = append(d.faults, req.Faults...)
	d.generate += req.Generate
	if d.generate > billMaxGen {
		d.generate = billMaxGen
	}
	n, gen := len(d.faults), d.generate
	b.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string]int{"faults": n, "generate": gen})
}
