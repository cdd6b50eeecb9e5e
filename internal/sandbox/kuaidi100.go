package sandbox

// A stand-in for Kuaidi100 (poll.kuaidi100.com), with its wire format: form
// posts, upper-case MD5 signatures, answers as {"result","returnCode",
// "message"} (wire-format reference §6.1).
//
//	POST /poll/query.do   customer, param, sign=MD5(param+key+customer): a
//	                      waybill's history; the same waybill queried again
//	                      within 30 minutes (sandbox clock) gets 504.
//	POST /poll            schema=json, param: a subscription; pushes go to
//	                      parameters.callbackurl, signed MD5(param+salt).
//	                      501 while a subscription is running (and for 30
//	                      minutes after an abort), 600 bad key, 700 bad
//	                      callback, more than 4 a month refused.
//
// Control API (tests need not wait for parcels to move):
//
//	POST /sandbox/v1/kuaidi100/accounts {"key"}: the account (customer,
//	     key, salt) of key, derived from the seed like apps are.
//	POST /sandbox/v1/kuaidi100/advance {"company","number","steps",
//	     "customs_problem","duplicate","stale","tamper"}: moves the parcel
//	     along its route (picked up, in transit, 待清关 10, 清关中 11,
//	     已清关 12 (or 清关异常 13), out for delivery, signed for 3), pushing
//	     each step to the subscriber; duplicate sends every push twice,
//	     stale re-sends the previous step's push after the last one
//	     (out of order), tamper signs with a wrong salt.
//	POST /sandbox/v1/kuaidi100/abort {"company","number"}: Kuaidi100 gives
//	     up (status abort, "3天查询无记录").
//	POST /sandbox/v1/kuaidi100/clock {"advance_ms"}: moves this sandbox's
//	     clock forward (throttling and abort windows).
//	POST /sandbox/v1/kuaidi100/waybill {"company","number"}: what the
//	     sandbox saw (queries, throttled queries, subscriptions, pushes and
//	     their HTTP statuses, state).

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minishop/minishop/internal/kuaidi100"
)

type k100State struct {
	seed   []byte
	now    func() time.Time
	http   *http.Client
	mu     sync.Mutex
	offset time.Duration
	bills  map[string]*waybill // company+" "+number
}

type waybill struct {
	com, num       string
	callback, salt string
	sub            string // "", polling, abort, shutdown
	subAt          time.Time
	subs           int
	step           int
	customsProblem bool
	traces         []kuaidi100.Trace // newest first
	state          int
	lastQuery      time.Time
	queries        int
	throttled      int
	pushes         []int // HTTP status of each push (0: unreachable)
}

// The route of a parcel, one step per advance.
var k100Route = []struct {
	state   int
	context string
}{
	{kuaidi100.StatePickedUp, "【东京】快件已揽收"},
	{kuaidi100.StateInTransit, "快件已从【东京】发出，运往【上海】"},
	{kuaidi100.StateCustomsWaiting, "快件已到达口岸【上海浦东】，待清关"},
	{kuaidi100.StateCustomsClearing, "快件清关中"},
	{kuaidi100.StateCustomsCleared, "快件已清关放行"},
	{kuaidi100.StateDelivering, "【上海市】快件交给王师傅，正在派件中"},
	{kuaidi100.StateSigned, "【上海市】快件已签收，签收人：本人"},
}

func (s *Server) mountKuaidi100(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	k := &k100State{seed: s.seed, now: s.now, http: &http.Client{Timeout: 10 * time.Second}, bills: map[string]*waybill{}}
	mux.HandleFunc("POST /poll/query.do", k.query)
	mux.HandleFunc("POST /poll", k.subscribe)
	control["/sandbox/v1/kuaidi100/accounts"] = k.controlAccount
	control["/sandbox/v1/kuaidi100/advance"] = k.controlAdvance
	control["/sandbox/v1/kuaidi100/abort"] = k.controlAbort
	control["/sandbox/v1/kuaidi100/clock"] = k.controlClock
	control["/sandbox/v1/kuaidi100/waybill"] = k.controlWaybill
}

// Kuaidi100AccountFor derives the sandbox Kuaidi100 account of key (for
// example "tenant:42"). The sandbox accepts exactly the key and salt derived
// this way for a customer; a key carries its own check, since subscriptions
// send the key without the customer.
func Kuaidi100AccountFor(seed []byte, key string) kuaidi100.Account {
	customer := strings.ToUpper("SBK" + mac(seed, "k100customer:"+key)[:13])
	return kuaidi100.Account{Customer: customer, Key: k100Key(seed, customer), Salt: mac(seed, "k100salt:"+customer)[:24]}
}

func k100Key(seed []byte, customer string) string {
	id := mac(seed, "k100id:"+customer)[:16]
	return id + mac(seed, "k100key:"+id)[:16]
}

func (k *k100State) validKey(key string) bool {
	return len(key) == 32 && key[16:] == mac(k.seed, "k100key:"+key[:16])[:16]
}

func (k *k100State) clock() time.Time { return k.now().Add(k.offset) }

// bill returns the waybill, creating it. Callers hold k.mu.
func (k *k100State) bill(com, num string) *waybill {
	b := k.bills[com+" "+num]
	if b == nil {
		b = &waybill{com: com, num: num, state: -1}
		k.bills[com+" "+num] = b
	}
	return b
}

func k100Reply(w http.ResponseWriter, ok bool, code, msg string) {
	writeJSON(w, "application/json;charset=UTF-8", http.StatusOK, struct {
		Result     bool   `json:"result"`
		ReturnCode string `json:"returnCode"`
		Message    string `json:"message"`
	}{ok, code, msg})
}

func (b *waybill) result() kuaidi100.Result {
	r := kuaidi100.Result{Message: "ok", Nu: b.num, Com: b.com, Status: "200", Condition: "F00", IsCheck: "0",
		State: strconv.Itoa(max(b.state, 0)), Data: append([]kuaidi100.Trace{}, b.traces...)}
	if b.state == kuaidi100.StateSigned {
		r.IsCheck = "1"
	}
	return r
}

func (k *k100State) query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		k100Reply(w, false, "400", "请求参数错误")
		return
	}
	customer, param, sign := r.PostForm.Get("customer"), r.PostForm.Get("param"), r.PostForm.Get("sign")
	if customer == "" || param == "" || sign != kuaidi100.Sign(param, k100Key(k.seed, customer), customer) {
		k100Reply(w, false, "503", "验证签名失败")
		return
	}
	var p kuaidi100.QueryParam
	if err := json.Unmarshal([]byte(param), &p); err != nil || p.Com == "" || p.Num == "" {
		k100Reply(w, false, "400", "请求参数错误")
		return
	}
	if c, ok := kuaidi100.CarrierOf(p.Com); !ok {
		k100Reply(w, false, "400", "不支持的快递公司")
		return
	} else if c.NeedPhone && len(p.Phone) < 4 {
		k100Reply(w, false, "408", "快递公司参数异常：验证码错误")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bill(p.Com, p.Num)
	now := k.clock()
	if !b.lastQuery.IsZero() && now.Sub(b.lastQuery) < kuaidi100.MinQueryGap {
		b.throttled++
		k100Reply(w, false, "504", "查询过于频繁，请30分钟后再查")
		return
	}
	b.lastQuery = now
	b.queries++
	if len(b.traces) == 0 {
		k100Reply(w, false, "500", "查询无结果，请隔段时间再查")
		return
	}
	writeJSON(w, "application/json;charset=UTF-8", http.StatusOK, b.result())
}

func (k *k100State) subscribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("schema") != "json" {
		k100Reply(w, false, "700", "参数错误：schema 必须为 json")
		return
	}
	var p struct {
		Company    string `json:"company"`
		Number     string `json:"number"`
		Key        string `json:"key"`
		Parameters struct {
			CallbackURL string `json:"callbackurl"`
			Salt        string `json:"salt"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(r.PostForm.Get("param")), &p); err != nil || p.Company == "" || p.Number == "" {
		k100Reply(w, false, "700", "参数错误")
		return
	}
	if !k.validKey(p.Key) {
		k100Reply(w, false, "600", "您不是合法的订阅者（即授权Key出错）")
		return
	}
	if _, ok := kuaidi100.CarrierOf(p.Company); !ok {
		k100Reply(w, false, "701", "拒绝订阅的快递公司")
		return
	}
	if u, err := url.Parse(p.Parameters.CallbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(p.Parameters.Salt) > 32 {
		k100Reply(w, false, "700", "回调地址或salt不合法")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bill(p.Company, p.Number)
	now := k.clock()
	switch {
	case b.sub == "polling" || b.sub == "abort" && now.Sub(b.subAt) < 30*time.Minute:
		k100Reply(w, false, "501", "重复订阅")
		return
	case b.subs >= kuaidi100.MaxSubscriptions:
		k100Reply(w, false, "700", "该单号本月订阅次数已达上限")
		return
	}
	b.callback, b.salt, b.sub, b.subAt = p.Parameters.CallbackURL, p.Parameters.Salt, "polling", now
	b.subs++
	k100Reply(w, true, "200", "提交成功")
}

// push sends the waybill's current result to its subscriber and records
// the HTTP status. Callers hold k.mu (pushes of one sandbox are serial).
func (k *k100State) push(b *waybill, status, message string, res kuaidi100.Result, tamper bool) {
	param, _ := json.Marshal(kuaidi100.Push{Status: status, BillStatus: "got", Message: message, AutoCheck: "0", LastResult: res})
	salt := b.salt
	if tamper {
		salt += "x"
	}
	form := url.Values{"param": {string(param)}}
	if b.salt != "" {
		form.Set("sign", kuaidi100.Sign(string(param), salt))
	}
	code := 0
	resp, err := k.http.Post(b.callback, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err == nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		code = resp.StatusCode
		var ack struct {
			Result bool `json:"result"`
		}
		if code == http.StatusOK && (json.Unmarshal(bytes.TrimSpace(body), &ack) != nil || !ack.Result) {
			code = -code // answered 200 but did not take it
		}
	}
	b.pushes = append(b.pushes, code)
}

type k100Target struct {
	Company        string `json:"company"`
	Number         string `json:"number"`
	Steps          int    `json:"steps"`
	CustomsProblem bool   `json:"customs_problem"`
	Duplicate      bool   `json:"duplicate"`
	Stale          bool   `json:"stale"`
	Tamper         bool   `json:"tamper"`
	AdvanceMS      int64  `json:"advance_ms"`
	Key            string `json:"key"`
}

func (k *k100State) target(w http.ResponseWriter, r *http.Request) (*k100Target, bool) {
	var t k100Target
	if !decodeControl(w, r, &t) {
		return nil, false
	}
	if t.Company == "" || t.Number == "" {
		writeControlError(w, http.StatusBadRequest, "invalid", `"company" and "number" name the waybill`)
		return nil, false
	}
	return &t, true
}

func (k *k100State) controlAccount(w http.ResponseWriter, r *http.Request) {
	var t k100Target
	if !decodeControl(w, r, &t) {
		return
	}
	if t.Key == "" || len(t.Key) > 200 {
		writeControlError(w, http.StatusBadRequest, "invalid", `"key" names the account, e.g. "tenant:42"`)
		return
	}
	a := Kuaidi100AccountFor(k.seed, t.Key)
	writeJSON(w, ctJSON, http.StatusOK, map[string]string{"customer": a.Customer, "key": a.Key, "salt": a.Salt})
}

// withBill decodes a control request naming a waybill and runs fn with
// it, holding k.mu.
func (k *k100State) withBill(w http.ResponseWriter, r *http.Request, fn func(t *k100Target, b *waybill)) {
	t, ok := k.target(w, r)
	if !ok {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	fn(t, k.bill(t.Company, t.Number))
}

func (k *k100State) controlAdvance(w http.ResponseWriter, r *http.Request) {
	k.withBill(w, r, func(t *k100Target, b *waybill) { k.advance(w, t, b) })
}

func (k *k100State) advance(w http.ResponseWriter, t *k100Target, b *waybill) {
	if t.Steps <= 0 {
		t.Steps = 1
	}
	b.customsProblem = b.customsProblem || t.CustomsProblem
	from := len(b.pushes)
	var prev *kuaidi100.Result
	for i := 0; i < t.Steps && b.step < len(k100Route); i++ {
		before := b.result()
		prev = &before
		st := k100Route[b.step]
		if b.customsProblem && st.state == kuaidi100.StateCustomsCleared {
			st.state, st.context = kuaidi100.StateCustomsProblem, "快件清关异常：申报信息与订单不符，待补充资料"
		}
		b.step++
		b.state = st.state
		at := k.clock().Add(time.Duration(b.step) * time.Second).In(cst).Format("2006-01-02 15:04:05")
		_, zh := kuaidi100.StateName(st.state)
		b.traces = append([]kuaidi100.Trace{{Time: at, FTime: at, Context: st.context, Status: zh, StatusCode: strconv.Itoa(st.state)}}, b.traces...)
		if b.sub != "polling" {
			continue
		}
		status := "polling"
		if st.state == kuaidi100.StateSigned {
			status = "shutdown"
		}
		n := 1
		if t.Duplicate {
			n = 2
		}
		for range n {
			k.push(b, status, "", b.result(), t.Tamper)
		}
		if status == "shutdown" {
			b.sub = "shutdown"
		}
	}
	if t.Stale && prev != nil && b.callback != "" {
		k.push(b, "polling", "", *prev, t.Tamper)
	}
	writeJSON(w, ctJSON, http.StatusOK, map[string]any{"state": b.state, "step": b.step, "pushes": append([]int{}, b.pushes[from:]...)})
}

func (k *k100State) controlAbort(w http.ResponseWriter, r *http.Request) {
	k.withBill(w, r, func(_ *k100Target, b *waybill) {
		if b.sub != "polling" {
			writeControlError(w, http.StatusConflict, "not_subscribed", "the waybill has no running subscription")
			return
		}
		from := len(b.pushes)
		k.push(b, "abort", "3天查询无记录", b.result(), false)
		b.sub, b.subAt = "abort", k.clock()
		writeJSON(w, ctJSON, http.StatusOK, map[string]any{"pushes": append([]int{}, b.pushes[from:]...)})
	})
}

func (k *k100State) controlClock(w http.ResponseWriter, r *http.Request) {
	var t k100Target
	if !decodeControl(w, r, &t) {
		return
	}
	if t.AdvanceMS <= 0 {
		writeControlError(w, http.StatusBadRequest, "invalid", `"advance_ms" must be positive`)
		return
	}
	k.mu.Lock()
	k.offset += time.Duration(t.AdvanceMS) * time.Millisecond
	now := k.clock()
	k.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string]any{"now": now.Format(time.RFC3339)})
}

func (k *k100State) controlWaybill(w http.ResponseWriter, r *http.Request) {
	k.withBill(w, r, func(_ *k100Target, b *waybill) {
		writeJSON(w, ctJSON, http.StatusOK, map[string]any{"queries": b.queries, "throttled": b.throttled, "subscriptions": b.subs,
			"subscription": b.sub, "pushes": append([]int{}, b.pushes...), "state": b.state, "step": b.step, "callback": b.callback})
	})
}
