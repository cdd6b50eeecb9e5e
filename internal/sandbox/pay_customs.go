package sandbox

// The WeChat Pay customs declaration (支付报关) of the sandbox: the v2 XML
// API of direct merchants and service providers (MD5-signed; a sandbox
// merchant's API v2 key is its APIv3 key) and the v3 API of WeChat Pay
// Global merchants under /v3/global/customs. A declaration starts
// UNDECLARED and moves on by itself, one step every step_ms (default 2 s):
// SUBMITTED, PROCESSING, then SUCCESS, or FAIL when a fault says so. The
// identity check answers SAME, or DIFFERENT when the buyer's name contains
// "代付" (someone else paid) or a fault says so. Declaring the same content
// again answers the existing declaration; other content needs MODIFY.
//
// Control: POST /sandbox/v1/pay/customs-faults
// {"mchid","step_ms"?,"out_trade_no"?,"cert_check_result"?,"fail"?,"fail_times"?}
// sets the merchant's step and the faults of one payment (fail: the
// explanation of a FAIL, for the next fail_times runs, default 1);
// POST /sandbox/v1/pay/customs-declarations {"mchid","out_trade_no"} counts
// what the merchant sent for a payment and lists its declarations.

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	payCustomsDefaultStep = 2 * time.Second
	customsMaxRecords     = 100_000
	customsMagicPayer     = "代付" // a buyer name with it was paid for by someone else
)

// customsOffices the sandbox knows (v2 list, plus a v3 one seen in use).
var customsOffices = map[string]bool{"NO": true, "GUANGZHOU_ZS": true, "HANGZHOU_ZS": true, "NINGBO": true, "ZHENGZHOU_BS": true,
	"CHONGQING": true, "SHANGHAI_ZS": true, "SHENZHEN": true, "ZHENGZHOU_ZH_ZS": true, "TIANJIN": true, "ZONGSHU": true, "GUANGZHOU_HP_GJ": true}

var (
	mchCustomsNoRe = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)
	certIDRe       = regexp.MustCompile(`^[0-9]{17}[0-9X]$`)
)

// customsRec is one declaration: a payment, or one sub-order of it.
type customsRec struct {
	mchID, subMchID, appID    string
	outTradeNo, txnID         string
	subOrderNo, subOrderID    string
	customs, mchCustomsNo     string
	duty, orderFee, transport int64
	product                   int64
	cert                      string // UNCHECKED, SAME, DIFFERENT
	since                     time.Time
	step                      time.Duration
	fail                      string // explanation when this run ends in FAIL
}

// state is the declaration's state at now, and when it took it.
func (r *customsRec) state(now time.Time) (string, time.Time) {
	n := int(now.Sub(r.since) / r.step)
	if r.step <= 0 {
		n = 3
	}
	switch {
	case n <= 0:
		return "UNDECLARED", r.since
	case n == 1:
		return "SUBMITTED", r.since.Add(r.step)
	case n == 2:
		return "PROCESSING", r.since.Add(2 * r.step)
	case r.fail != "":
		return "FAIL", r.since.Add(3 * r.step)
	}
	return "SUCCESS", r.since.Add(3 * r.step)
}

func (r *customsRec) sameContent(o *customsRec) bool {
	return r.customs == o.customs && r.mchCustomsNo == o.mchCustomsNo && r.duty == o.duty && r.orderFee == o.orderFee &&
		r.transport == o.transport && r.product == o.product
}

type customsFault struct {
	cert      string
	fail      string
	failTimes int
}

type customsCount struct {
	Declares   int `json:"declares"`
	Duplicates int `json:"duplicates"`
	Modifies   int `json:"modifies"`
	Redeclares int `json:"redeclares"`
	Queries    int `json:"queries"`
}

type customsPayState struct {
	mu     sync.Mutex
	recs   map[string][]*customsRec // mchid/sub/out_trade_no -> declarations
	steps  map[string]time.Duration // mchid -> step
	faults map[string]*customsFault // mchid/sub/out_trade_no
	counts map[string]*customsCount
}

func customsKey(mchID, sub, outTradeNo string) string { return mchID + "/" + sub + "/" + outTradeNo }

// customsErr is a refusal: a v2 result_code FAIL, or a v3 error answer.
type customsErr struct {
	status      int
	code, msg   string
	returnLevel bool // v2 return_code FAIL (the request itself is bad)
}

// customsReq is a declare, modify or redeclare request in either API.
type customsReq struct {
	mchID, subMchID, appID string
	outTradeNo, txnID      string
	subOrderNo, subOrderID string
	customs, mchCustomsNo  string
	duty, orderFee         int64
	transport, product     int64
	split                  bool
	certID, name           string
}

// mountPayCustoms registers the customs declaration endpoints and controls.
func (s *Server) mountPayCustoms(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	c := &customsPayState{recs: map[string][]*customsRec{}, steps: map[string]time.Duration{},
		faults: map[string]*customsFault{}, counts: map[string]*customsCount{}}
	mux.HandleFunc("POST /cgi-bin/mch/customs/customdeclareorder", func(w http.ResponseWriter, r *http.Request) {
		s.customsV2(c, w, r, "declare")
	})
	mux.HandleFunc("POST /cgi-bin/mch/customs/customdeclarequery", func(w http.ResponseWriter, r *http.Request) {
		s.customsV2(c, w, r, "query")
	})
	mux.HandleFunc("POST /cgi-bin/mch/newcustoms/customdeclareredeclare", func(w http.ResponseWriter, r *http.Request) {
		s.customsV2(c, w, r, "redeclare")
	})
	mux.HandleFunc("POST /v3/global/customs/orders", s.payEndpoint("customs_declare", func(req *payReq) (int, any, *payAPIError) {
		return s.customsV3(c, req, "declare")
	}))
	mux.HandleFunc("PATCH /v3/global/customs/orders", s.payEndpoint("customs_modify", func(req *payReq) (int, any, *payAPIError) {
		return s.customsV3(c, req, "modify")
	}))
	mux.HandleFunc("GET /v3/global/customs/orders", s.payEndpoint("customs_query", func(req *payReq) (int, any, *payAPIError) {
		return s.customsV3Query(c, req)
	}))
	mux.HandleFunc("POST /v3/global/customs/redeclare", s.payEndpoint("customs_redeclare", func(req *payReq) (int, any, *payAPIError) {
		return s.customsV3(c, req, "redeclare")
	}))
	control["/sandbox/v1/pay/customs-faults"] = func(w http.ResponseWriter, r *http.Request) { s.controlCustomsFaults(c, w, r) }
	control["/sandbox/v1/pay/customs-declarations"] = func(w http.ResponseWriter, r *http.Request) { s.controlCustomsDeclarations(c, w, r) }
}

// apply runs a declare, modify or redeclare against the state.
func (s *Server) customsApply(c *customsPayState, q *customsReq, action string) (*customsRec, *customsErr) {
	bad := func(code, msg string) *customsErr {
		return &customsErr{status: http.StatusBadRequest, code: code, msg: msg}
	}
	if !outTradeNoPattern.MatchString(q.outTradeNo) {
		return nil, bad("PARAM_ERROR", "out_trade_no 格式错误")
	}
	if !customsOffices[q.customs] {
		return nil, bad("PARAM_ERROR", "customs 海关编码错误: "+truncate(q.customs, 32))
	}
	if q.customs != "NO" && !mchCustomsNoRe.MatchString(q.mchCustomsNo) {
		return nil, bad("PARAM_ERROR", "mch_customs_no 商户海关备案号不能为空")
	}
	if q.subOrderNo != "" && !outTradeNoPattern.MatchString(q.subOrderNo) {
		return nil, bad("PARAM_ERROR", "sub_order_no 格式错误")
	}
	now := s.now()
	key := customsKey(q.mchID, q.subMchID, q.outTradeNo)
	c.mu.Lock()
	defer c.mu.Unlock()
	cnt := c.counts[key]
	if cnt == nil {
		cnt = &customsCount{}
		if len(c.counts) < customsMaxRecords {
			c.counts[key] = cnt
		}
	}
	recs := c.recs[key]
	var cur *customsRec
	for _, r := range recs {
		if r.subOrderNo == q.subOrderNo {
			cur = r
		}
	}
	step := c.steps[q.mchID]
	if step == 0 {
		step = payCustomsDefaultStep
	}
	startRun := func(r *customsRec) {
		r.since, r.step, r.fail = now, step, ""
		if f := c.faults[key]; f != nil && f.failTimes > 0 {
			r.fail = f.fail
			f.failTimes--
		}
	}
	if action == "redeclare" {
		if cur == nil {
			return nil, bad("INVALID_REQUEST", "报关记录不存在")
		}
		if st, _ := cur.state(now); st != "FAIL" && st != "EXCEPT" && st != "SUCCESS" {
			return nil, bad("35311004", "您的操作已提交,请确认是否已生效")
		}
		if cur.customs != q.customs {
			return nil, bad("PARAM_ERROR", "customs 与报关记录不一致")
		}
		startRun(cur)
		cnt.Redeclares++
		return cur, nil
	}

	// declare or modify: the payment must be this merchant's and paid.
	s.pay.mu.Lock()
	o := s.pay.txns[q.txnID]
	var total int64
	var appOK bool
	if o != nil {
		total = o.total
		appOK = q.appID == o.appID || q.appID == o.spAppID || q.appID == o.subAppID
		if o.mchID != q.mchID || o.subMchID != q.subMchID || o.outTradeNo != q.outTradeNo || (o.state != "SUCCESS" && o.state != "REFUND") {
			o = nil
		}
	}
	s.pay.mu.Unlock()
	if o == nil {
		return nil, bad("ORDERNOTEXIST", "订单不存在或未支付")
	}
	if !appOK {
		return nil, bad("PARAM_ERROR", "appid 与订单不一致")
	}
	if q.duty < 0 || (q.split && (q.orderFee <= 0 || q.transport < 0 || q.product < 0 || q.orderFee != q.transport+q.product)) {
		return nil, bad("PARAM_ERROR", "order_fee 必须等于 transport_fee + product_fee")
	}
	if q.split != (q.subOrderNo != "") {
		return nil, bad("PARAM_ERROR", "拆单时 sub_order_no 与 order_fee、transport_fee、product_fee 须同时提供")
	}
	for _, r := range recs {
		if (r.subOrderNo == "") != (q.subOrderNo == "") {
			return nil, bad("PARAM_ERROR", "该订单已按"+map[bool]string{true: "不拆单", false: "拆单"}[r.subOrderNo == ""]+"方式报关")
		}
	}
	if q.split {
		sum := q.orderFee
		for _, r := range recs {
			if r.subOrderNo != q.subOrderNo {
				sum += r.orderFee
			}
		}
		if sum > total {
			return nil, bad("PARAM_ERROR", fmt.Sprintf("子订单金额之和 %d 超过订单金额 %d", sum, total))
		}
	}
	if q.certID != "" && !certIDRe.MatchString(q.certID) {
		return nil, bad("PARAM_ERROR", "cert_id 证件号码格式错误")
	}
	next := &customsRec{mchID: q.mchID, subMchID: q.subMchID, appID: q.appID, outTradeNo: q.outTradeNo, txnID: q.txnID,
		subOrderNo: q.subOrderNo, customs: q.customs, mchCustomsNo: q.mchCustomsNo, duty: q.duty, orderFee: q.orderFee,
		transport: q.transport, product: q.product}
	if action == "modify" {
		if cur == nil {
			return nil, bad("INVALID_REQUEST", "报关记录不存在,请先报关")
		}
		if cur.customs != q.customs {
			return nil, bad("PARAM_ERROR", "customs 不可修改")
		}
		if cur.sameContent(next) {
			return cur, nil
		}
		cur.mchCustomsNo, cur.duty, cur.orderFee, cur.transport, cur.product = q.mchCustomsNo, q.duty, q.orderFee, q.transport, q.product
		startRun(cur)
		cnt.Modifies++
		return cur, nil
	}
	if cur != nil {
		if !cur.sameContent(next) {
			return nil, bad("PARAM_ERROR", "该订单已报关,内容不同;修改请使用 MODIFY")
		}
		cnt.Duplicates++
		return cur, nil
	}
	if len(c.recs) >= customsMaxRecords {
		return nil, &customsErr{status: http.StatusTooManyRequests, code: "FREQUENCY_LIMITED", msg: "sandbox: too many customs declarations"}
	}
	next.cert = "UNCHECKED"
	if q.certID != "" {
		next.cert = "SAME"
		if f := c.faults[key]; strings.Contains(q.name, customsMagicPayer) || (f != nil && f.cert == "DIFFERENT") {
			next.cert = "DIFFERENT"
		}
	}
	if q.subOrderNo != "" {
		next.subOrderID = "S" + q.txnID[len(q.txnID)-min(len(q.txnID), 12):] + fmt.Sprintf("%04d", len(recs)+1)
	}
	startRun(next)
	c.recs[key] = append(recs, next)
	cnt.Declares++
	return next, nil
}

// findCustoms returns the declarations a query names (by precedence
// sub_order_id > sub_order_no > transaction_id > out_trade_no).
func (c *customsPayState) find(mchID, sub, typ, no, customs string) []*customsRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*customsRec
	for k, recs := range c.recs {
		if !strings.HasPrefix(k, mchID+"/"+sub+"/") {
			continue
		}
		for _, r := range recs {
			if r.customs != customs {
				continue
			}
			if (typ == "sub_order_id" && r.subOrderID == no) || (typ == "sub_order_no" && r.subOrderNo == no) ||
				(typ == "transaction_id" && r.txnID == no) || (typ == "out_trade_no" && r.outTradeNo == no) {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].subOrderNo < out[j].subOrderNo })
	if len(out) > 0 {
		if cnt := c.counts[customsKey(mchID, sub, out[0].outTradeNo)]; cnt != nil {
			cnt.Queries++
		}
	}
	return out
}

// ---- v2 ----

func (s *Server) customsV2(c *customsPayState, w http.ResponseWriter, r *http.Request, action string) {
	reply := func(m map[string]string, key string) {
		if key != "" {
			m["nonce_str"] = randomString(alnum, 32)
			m["sign"] = md5Sign(m, key)
		}
		var b strings.Builder
		b.WriteString("<xml>")
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString("<" + k + "><![CDATA[" + strings.ReplaceAll(m[k], "]]>", "") + "]]></" + k + ">")
		}
		b.WriteString("</xml>")
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, b.String())
	}
	fail := func(msg string) { reply(map[string]string{"return_code": "FAIL", "return_msg": msg}, "") }
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, payMaxBody))
	if err != nil {
		fail("请求体过大")
		return
	}
	p, err := parseFlatXML(body)
	if err != nil {
		fail("XML 格式错误: " + truncate(err.Error(), 80))
		return
	}
	mch := p["mch_id"]
	kind := s.signingKind(mch)
	if kind == "" {
		fail("mch_id 参数错误")
		return
	}
	if kind != mchDirect && kind != mchServiceProvider {
		fail("该商户号不支持此接口,境外商户请使用 /v3/global/customs")
		return
	}
	key := s.pay.keysOf(s.seed, mch).apiV3Key
	if st := p["sign_type"]; st != "" && st != "MD5" {
		fail("sign_type 只支持 MD5")
		return
	}
	if p["sign"] == "" || subtle.ConstantTimeCompare([]byte(strings.ToUpper(p["sign"])), []byte(md5Sign(p, key))) != 1 {
		s.log.Info("sandbox: customs v2 refused signature", "mchid", mch)
		fail("签名错误")
		return
	}
	sub := p["sub_mch_id"]
	if kind == mchServiceProvider && !s.validMch(sub, mchSub, mch) {
		fail("sub_mch_id 参数错误")
		return
	}
	if kind == mchDirect && sub != "" {
		fail("sub_mch_id 参数错误: 普通商户不可填写")
		return
	}
	base := map[string]string{"return_code": "SUCCESS", "return_msg": "OK", "appid": p["appid"], "mch_id": mch}
	if sub != "" {
		base["sub_mch_id"] = sub
	}
	refuse := func(e *customsErr) {
		base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", e.code, e.msg
		reply(base, key)
	}
	now := s.now()
	if action == "query" {
		typ, no := "", ""
		for _, t := range []string{"sub_order_id", "sub_order_no", "transaction_id", "out_trade_no"} {
			if p[t] != "" {
				typ, no = t, p[t]
				break
			}
		}
		if typ == "" || p["customs"] == "" {
			refuse(&customsErr{code: "PARAM_ERROR", msg: "customs 与订单号不能为空"})
			return
		}
		recs := c.find(mch, sub, typ, no, p["customs"])
		if len(recs) == 0 {
			refuse(&customsErr{code: "INVALID_REQUEST", msg: "查询指定记录不存在"})
			return
		}
		base["result_code"], base["err_code"], base["err_code_des"] = "SUCCESS", "0", "OK"
		base["out_trade_no"], base["transaction_id"], base["count"] = recs[0].outTradeNo, recs[0].txnID, strconv.Itoa(len(recs))
		base["verify_department"], base["verify_department_trade_id"] = "OTHERS", recs[0].txnID
		for i, r := range recs {
			st, at := r.state(now)
			sfx := "_" + strconv.Itoa(i)
			base["sub_order_no"+sfx], base["sub_order_id"+sfx] = r.subOrderNo, r.subOrderID
			base["customs"+sfx], base["mch_customs_no"+sfx], base["state"+sfx] = r.customs, r.mchCustomsNo, st
			base["modify_time"+sfx], base["cert_check_result"+sfx] = at.In(cst).Format("20060102150405"), r.cert
			base["duty"+sfx] = strconv.FormatInt(r.duty, 10)
			if r.subOrderNo != "" {
				base["fee_type"+sfx] = "CNY"
				base["order_fee"+sfx], base["transport_fee"+sfx], base["product_fee"+sfx] = strconv.FormatInt(r.orderFee, 10),
					strconv.FormatInt(r.transport, 10), strconv.FormatInt(r.product, 10)
			}
			if st == "FAIL" {
				base["explanation"+sfx] = r.fail
			}
		}
		reply(base, key)
		return
	}
	q := &customsReq{mchID: mch, subMchID: sub, appID: p["appid"], outTradeNo: p["out_trade_no"], txnID: p["transaction_id"],
		subOrderNo: p["sub_order_no"], customs: p["customs"], mchCustomsNo: p["mch_customs_no"], certID: p["cert_id"], name: p["name"]}
	n := func(k string) int64 { v, _ := strconv.ParseInt(p[k], 10, 64); return v }
	q.duty, q.orderFee, q.transport, q.product = n("duty"), n("order_fee"), n("transport_fee"), n("product_fee")
	q.split = p["order_fee"] != "" || p["transport_fee"] != "" || p["product_fee"] != ""
	if q.split && p["fee_type"] != "CNY" {
		refuse(&customsErr{code: "PARAM_ERROR", msg: "fee_type 只支持 CNY"})
		return
	}
	if (q.certID == "") != (q.name == "") || (q.certID != "" && p["cert_type"] != "IDCARD") {
		refuse(&customsErr{code: "PARAM_ERROR", msg: "cert_type、cert_id、name 须同时提供,cert_type 为 IDCARD"})
		return
	}
	if action == "declare" {
		switch p["action_type"] {
		case "", "ADD":
		case "MODIFY":
			action = "modify"
		default:
			refuse(&customsErr{code: "PARAM_ERROR", msg: "action_type 只能是 ADD 或 MODIFY"})
			return
		}
	}
	if action == "redeclare" && q.outTradeNo == "" && q.txnID != "" {
		s.pay.mu.Lock()
		if o := s.pay.txns[q.txnID]; o != nil && o.mchID == mch {
			q.outTradeNo = o.outTradeNo
		}
		s.pay.mu.Unlock()
	}
	rec, e := s.customsApply(c, q, action)
	if e != nil {
		s.log.Info("sandbox: customs v2", "action", action, "mchid", mch, "error", e.code)
		refuse(e)
		return
	}
	st, at := rec.state(now)
	base["result_code"], base["err_code"], base["err_code_des"] = "SUCCESS", "0", "OK"
	base["state"], base["transaction_id"], base["out_trade_no"] = st, rec.txnID, rec.outTradeNo
	base["modify_time"], base["cert_check_result"] = at.In(cst).Format("20060102150405"), rec.cert
	base["verify_department"], base["verify_department_trade_id"] = "OTHERS", rec.txnID
	if rec.subOrderNo != "" {
		base["sub_order_no"], base["sub_order_id"] = rec.subOrderNo, rec.subOrderID
	}
	s.log.Info("sandbox: customs v2", "action", action, "mchid", mch, "state", st)
	reply(base, key)
}

// md5Sign is the v2 MD5 signature, written here independently of the
// client so that a mistake on one side shows.
func md5Sign(p map[string]string, key string) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	parts = append(parts, "key="+key)
	sum := md5.Sum([]byte(strings.Join(parts, "&")))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// parseFlatXML reads <xml><k>v</k>…</xml>.
func parseFlatXML(b []byte) (map[string]string, error) {
	var doc struct {
		XMLName xml.Name
		Fields  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
			Inner   []byte `xml:",innerxml"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.XMLName.Local != "xml" {
		return nil, errors.New("root element must be <xml>")
	}
	m := map[string]string{}
	for _, f := range doc.Fields {
		if strings.Contains(string(f.Inner), "<") && !strings.Contains(string(f.Inner), "<![CDATA[") {
			return nil, errors.New("nested element " + f.XMLName.Local)
		}
		if _, dup := m[f.XMLName.Local]; dup {
			return nil, errors.New("repeated element " + f.XMLName.Local)
		}
		m[f.XMLName.Local] = strings.TrimSpace(f.Value)
	}
	return m, nil
}

// ---- v3 (Global) ----

type customsV3Body struct {
	AppID             string `json:"appid"`
	MchID             string `json:"mchid"`
	SpMchID           string `json:"sp_mchid"`
	SubMchID          string `json:"sub_mchid"`
	OutTradeNo        string `json:"out_trade_no"`
	TransactionID     string `json:"transaction_id"`
	Customs           string `json:"customs"`
	MerchantCustomsNo string `json:"merchant_customs_no"`
	Duty              int64  `json:"duty"`
	SubOrderNo        string `json:"sub_order_no"`
	FeeType           string `json:"fee_type"`
	OrderFee          *int64 `json:"order_fee"`
	TransportFee      *int64 `json:"transport_fee"`
	ProductFee        *int64 `json:"product_fee"`
	CertificateType   string `json:"certificate_type"`
	CertificateID     string `json:"certificate_id"`
	CertificateName   string `json:"certificate_name"`
}

type customsV3Rec struct {
	MchID                   string `json:"mchid,omitempty"`
	SpMchID                 string `json:"sp_mchid,omitempty"`
	SubMchID                string `json:"sub_mchid,omitempty"`
	AppID                   string `json:"appid,omitempty"`
	OutTradeNo              string `json:"out_trade_no"`
	TransactionID           string `json:"transaction_id"`
	Customs                 string `json:"customs"`
	MerchantCustomsNo       string `json:"merchant_customs_no"`
	Duty                    int64  `json:"duty,omitempty"`
	SubOrderNo              string `json:"sub_order_no,omitempty"`
	SubOrderID              string `json:"sub_order_id,omitempty"`
	FeeType                 string `json:"fee_type,omitempty"`
	OrderFee                int64  `json:"order_fee,omitempty"`
	TransportFee            int64  `json:"transport_fee,omitempty"`
	ProductFee              int64  `json:"product_fee,omitempty"`
	State                   string `json:"state"`
	Explanation             string `json:"explanation,omitempty"`
	ModifyTime              string `json:"modify_time"`
	CertCheckResult         string `json:"cert_check_result"`
	VerifyDepartment        string `json:"verify_department"`
	VerifyDepartmentTradeID string `json:"verify_department_trade_id"`
}

func (r *customsRec) v3(now time.Time) customsV3Rec {
	st, at := r.state(now)
	out := customsV3Rec{OutTradeNo: r.outTradeNo, TransactionID: r.txnID, Customs: r.customs, MerchantCustomsNo: r.mchCustomsNo,
		Duty: r.duty, SubOrderNo: r.subOrderNo, SubOrderID: r.subOrderID, State: st, ModifyTime: at.In(cst).Format(time.RFC3339),
		CertCheckResult: r.cert, VerifyDepartment: "OTHERS", VerifyDepartmentTradeID: r.txnID, AppID: r.appID}
	if r.subMchID != "" {
		out.SpMchID, out.SubMchID = r.mchID, r.subMchID
	} else {
		out.MchID = r.mchID
	}
	if r.subOrderNo != "" {
		out.FeeType, out.OrderFee, out.TransportFee, out.ProductFee = "CNY", r.orderFee, r.transport, r.product
	}
	if st == "FAIL" {
		out.Explanation = r.fail
	}
	return out
}

// customsV3Merchant checks that a Global merchant signed and that the
// merchant fields name it; it returns the sub-merchant.
func (s *Server) customsV3Merchant(req *payReq, mchID, spMchID, subMchID string) (string, *payAPIError) {
	if req.kind != mchGlobal && req.kind != mchGlobalSP {
		return "", perr(http.StatusForbidden, "NOAUTH", "商户号无权限调用该接口: 境内商户请使用 v2 报关接口")
	}
	return s.checkMerchant(req, payGlobal, mchID, spMchID, subMchID)
}

func (s *Server) customsV3(c *customsPayState, req *payReq, action string) (int, any, *payAPIError) {
	var b customsV3Body
	if e := decodePay(req.body, &b); e != nil {
		return 0, nil, e
	}
	sub, e := s.customsV3Merchant(req, b.MchID, b.SpMchID, b.SubMchID)
	if e != nil {
		return 0, nil, e
	}
	q := &customsReq{mchID: req.mchID, subMchID: sub, appID: b.AppID, outTradeNo: b.OutTradeNo, txnID: b.TransactionID,
		subOrderNo: b.SubOrderNo, customs: b.Customs, mchCustomsNo: b.MerchantCustomsNo, duty: b.Duty}
	if b.OrderFee != nil || b.TransportFee != nil || b.ProductFee != nil {
		if b.OrderFee == nil || b.TransportFee == nil || b.ProductFee == nil || b.FeeType != "CNY" {
			return 0, nil, paramError("拆单须同时提供 fee_type (CNY)、order_fee、transport_fee、product_fee")
		}
		q.split, q.orderFee, q.transport, q.product = true, *b.OrderFee, *b.TransportFee, *b.ProductFee
	}
	if b.CertificateID != "" || b.CertificateName != "" || b.CertificateType != "" {
		if action != "declare" || b.CertificateType != "IDCARD" {
			return 0, nil, paramError("certificate_type 只支持 IDCARD,且只在报关时提供")
		}
		key := s.customsDecryptKey(req)
		if key == nil {
			return 0, nil, paramError("Wechatpay-Serial 未指定有效的平台证书或微信支付公钥")
		}
		id, err1 := decryptPKCS1(key, b.CertificateID)
		name, err2 := decryptPKCS1(key, b.CertificateName)
		if err1 != nil || err2 != nil {
			return 0, nil, paramError("certificate_id/certificate_name 解密失败")
		}
		q.certID, q.name = id, name
	}
	rec, ce := s.customsApply(c, q, action)
	if ce != nil {
		status := ce.status
		if ce.code == "ORDERNOTEXIST" {
			status, ce.code = http.StatusNotFound, "ORDER_NOT_EXIST"
		}
		if ce.code == "35311004" {
			status, ce.code = http.StatusBadRequest, "INVALID_REQUEST"
		}
		return 0, nil, perr(status, ce.code, ce.msg)
	}
	c.mu.Lock()
	out := rec.v3(s.now())
	c.mu.Unlock()
	return http.StatusOK, out, nil
}

func (s *Server) customsV3Query(c *customsPayState, req *payReq) (int, any, *payAPIError) {
	v := req.r.URL.Query()
	sub, e := s.customsV3Merchant(req, v.Get("mchid"), v.Get("sp_mchid"), v.Get("sub_mchid"))
	if e != nil {
		return 0, nil, e
	}
	typ, no := v.Get("order_type"), v.Get("order_no")
	switch typ {
	case "out_trade_no", "transaction_id", "sub_order_no", "sub_order_id":
	default:
		return 0, nil, paramError("order_type 只能是 out_trade_no、transaction_id、sub_order_no、sub_order_id")
	}
	if no == "" || v.Get("customs") == "" {
		return 0, nil, paramError("order_no 与 customs 不能为空")
	}
	recs := c.find(req.mchID, sub, typ, no, v.Get("customs"))
	if len(recs) == 0 {
		return 0, nil, perr(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "查询指定记录不存在")
	}
	now := s.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	data := make([]customsV3Rec, 0, len(recs))
	for _, r := range recs {
		data = append(data, r.v3(now))
	}
	return http.StatusOK, map[string]any{"mchid": req.mchID, "out_trade_no": recs[0].outTradeNo, "transaction_id": recs[0].txnID,
		"verify_department": "OTHERS", "verify_department_trade_id": recs[0].txnID, "offset": 0, "limit": 100,
		"record_size": len(data), "data": data}, nil
}

// customsDecryptKey is the private key of what the request's
// Wechatpay-Serial names: the WeChat Pay public key or the platform
// certificate.
func (s *Server) customsDecryptKey(req *payReq) *rsa.PrivateKey {
	p := s.pay.platform(s.seed)
	switch {
	case req.accept == s.pay.keysOf(s.seed, req.mchID).pubKeyID:
		return p.pubKey
	case strings.EqualFold(req.accept, p.serial):
		return p.certKey
	}
	return nil
}

func decryptPKCS1(key *rsa.PrivateKey, b64 string) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	pt, err := rsa.DecryptPKCS1v15(rand.Reader, key, ct)
	return string(pt), err
}

// ---- control ----

func (s *Server) controlCustomsFaults(c *customsPayState, w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID      string `json:"mchid"`
		SubMchID   string `json:"sub_mchid"`
		StepMS     *int   `json:"step_ms"`
		OutTradeNo string `json:"out_trade_no"`
		Cert       string `json:"cert_check_result"`
		Fail       string `json:"fail"`
		FailTimes  int    `json:"fail_times"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if s.signingKind(req.MchID) == "" {
		writeControlError(w, http.StatusBadRequest, "invalid", `"mchid" must be a sandbox signing merchant`)
		return
	}
	if req.StepMS != nil && (*req.StepMS < 0 || *req.StepMS > 600_000) {
		writeControlError(w, http.StatusBadRequest, "invalid", `"step_ms" must be 0..600000`)
		return
	}
	if req.OutTradeNo != "" && !outTradeNoPattern.MatchString(req.OutTradeNo) || req.Cert != "" && req.Cert != "DIFFERENT" && req.Cert != "SAME" ||
		req.FailTimes < 0 || req.FailTimes > 100 || len(req.Fail) > 256 || (req.OutTradeNo == "" && (req.Cert != "" || req.Fail != "")) {
		writeControlError(w, http.StatusBadRequest, "invalid", `"out_trade_no" (with "cert_check_result" SAME or DIFFERENT, "fail" at most 256 bytes, "fail_times" 0..100) is needed for faults`)
		return
	}
	c.mu.Lock()
	if req.StepMS != nil {
		c.steps[req.MchID] = time.Duration(*req.StepMS) * time.Millisecond
		if *req.StepMS == 0 {
			c.steps[req.MchID] = time.Nanosecond
		}
	}
	if req.OutTradeNo != "" && len(c.faults) < customsMaxRecords {
		f := &customsFault{cert: req.Cert, fail: req.Fail, failTimes: req.FailTimes}
		if f.fail != "" && f.failTimes == 0 {
			f.failTimes = 1
		}
		c.faults[customsKey(req.MchID, req.SubMchID, req.OutTradeNo)] = f
	}
	c.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) controlCustomsDeclarations(c *customsPayState, w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID      string `json:"mchid"`
		SubMchID   string `json:"sub_mchid"`
		OutTradeNo string `json:"out_trade_no"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if s.signingKind(req.MchID) == "" || !outTradeNoPattern.MatchString(req.OutTradeNo) {
		writeControlError(w, http.StatusBadRequest, "invalid", `"mchid" (a sandbox signing merchant) and "out_trade_no" are required`)
		return
	}
	key := customsKey(req.MchID, req.SubMchID, req.OutTradeNo)
	now := s.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := struct {
		customsCount
		Records []customsV3Rec `json:"records"`
	}{Records: []customsV3Rec{}}
	if cnt := c.counts[key]; cnt != nil {
		out.customsCount = *cnt
	}
	for _, rec := range c.recs[key] {
		out.Records = append(out.Records, rec.v3(now))
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", ctJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
