package sandbox

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// retrySchedule is WeChat Pay's notification schedule after a first
// attempt that is not answered 2xx: 15 retries over 24h4m.
var retrySchedule = []time.Duration{
	15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute, 10 * time.Minute, 20 * time.Minute,
	30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute, 3 * time.Hour, 3 * time.Hour,
	3 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

const maxDeliveriesKept = 1000 // per merchant, for the notifications control endpoint

// notifyOptions are the switches of notification delivery, set per merchant
// with POST /sandbox/v1/pay/notify-settings or per payment in the "notify"
// field of POST /sandbox/v1/pay (which then replaces the merchant's).
type notifyOptions struct {
	// TimeScale multiplies the retry schedule and the refund delay (0 < x
	// ≤ 1); nil means the server's (Options.PayTimeScale, default 1).
	TimeScale *float64 `json:"time_scale,omitempty"`
	// DelayMS holds the first attempt back (reorder two payments by
	// delaying the first).
	DelayMS int `json:"delay_ms,omitempty"`
	// Duplicate sends this many extra copies after the first acknowledged
	// delivery, as WeChat Pay sometimes does.
	Duplicate int `json:"duplicate,omitempty"`
	// Hold keeps notifications until POST /sandbox/v1/pay/notify-release,
	// which can send them in reverse order.
	Hold bool `json:"hold,omitempty"`
	// Tamper first sends a copy whose body was changed after signing.
	Tamper bool `json:"tamper,omitempty"`
	// Probe first sends a WECHATPAY/SIGNTEST/ signature probe.
	Probe bool `json:"probe,omitempty"`
	// StripHeaders first sends a copy without the Wechatpay-* headers, as a
	// proxy that strips them would deliver it.
	StripHeaders bool `json:"strip_headers,omitempty"`
	// SkewSeconds shifts Wechatpay-Timestamp of every attempt (clock skew).
	SkewSeconds int `json:"skew_seconds,omitempty"`
	// SignWith is "certificate" (default) or "public_key".
	SignWith string `json:"sign_with,omitempty"`
	// RefundOutcome is how refunds end: SUCCESS (default), ABNORMAL or
	// CLOSED (merchant settings only).
	RefundOutcome string `json:"refund_outcome,omitempty"`
}

func (o *notifyOptions) check() string {
	switch {
	case o.TimeScale != nil && (*o.TimeScale <= 0 || *o.TimeScale > 1):
		return `"time_scale" must be greater than 0 and at most 1`
	case o.DelayMS < 0 || o.DelayMS > 600_000:
		return `"delay_ms" must be between 0 and 600000`
	case o.Duplicate < 0 || o.Duplicate > 10:
		return `"duplicate" must be between 0 and 10`
	case o.SkewSeconds < -86400 || o.SkewSeconds > 86400:
		return `"skew_seconds" must be within a day`
	case o.SignWith != "" && o.SignWith != "certificate" && o.SignWith != "public_key":
		return `"sign_with" must be "certificate" or "public_key"`
	case o.RefundOutcome != "" && o.RefundOutcome != "SUCCESS" && o.RefundOutcome != "ABNORMAL" && o.RefundOutcome != "CLOSED":
		return `"refund_outcome" must be SUCCESS, ABNORMAL or CLOSED`
	}
	return ""
}

// settingsOf returns the merchant's notify settings. Callers hold p.mu.
func (p *payState) settingsOf(mchID string) notifyOptions {
	if o := p.settings[mchID]; o != nil {
		return *o
	}
	return notifyOptions{}
}

// scaled compresses d by the time scale in force.
func (p *payState) scaled(d time.Duration, o notifyOptions) time.Duration {
	scale := p.scale
	if o.TimeScale != nil {
		scale = *o.TimeScale
	}
	return time.Duration(float64(d) * scale)
}

// schedule runs fn after d unless the sandbox is stopped. Callers hold p.mu.
func (p *payState) schedule(d time.Duration, fn func()) {
	if p.stopped {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		p.mu.Lock()
		delete(p.timers, t)
		stopped := p.stopped
		p.mu.Unlock()
		if !stopped {
			fn()
		}
	})
	p.timers[t] = true
}

// StopPay cancels pending notifications and refund settlements; the pay
// API keeps answering. Tests call it when they end.
func (s *Server) StopPay() {
	p := s.pay
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for t := range p.timers {
		t.Stop()
	}
	clear(p.timers)
}

// delivery is one notification and what became of it.
type delivery struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"` // notification, duplicate, probe, tampered, stripped
	EventType    string    `json:"event_type"`
	OutTradeNo   string    `json:"out_trade_no"`
	OutRefundNo  string    `json:"out_refund_no,omitempty"`
	URL          string    `json:"url"`
	Attempts     []attempt `json:"attempts"`
	Acknowledged bool      `json:"acknowledged"`
	GaveUp       bool      `json:"gave_up"`
	Held         bool      `json:"held"`

	mchID string
	body  []byte
	opts  notifyOptions
}

type attempt struct {
	At     string `json:"at"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// notify builds a notification for mchID and starts delivering it. plain
// is the resource, encrypted with the merchant's APIv3 key; override, if
// not nil, replaces the merchant's settings.
func (s *Server) notify(mchID, url, eventType, summary, originalType string, plain any, outTradeNo, outRefundNo string, override *notifyOptions) {
	pt, err := json.Marshal(plain)
	if err != nil {
		panic("sandbox: encoding notification: " + err.Error())
	}
	k := s.pay.keysOf(s.seed, mchID)
	nonce := randomString(alnum, 12)
	ct, err := sealGCM([]byte(k.apiV3Key), nonce, originalType, pt)
	if err != nil {
		panic("sandbox: encrypting notification: " + err.Error())
	}
	now := s.now()
	id := "EV-" + now.In(cst).Format("20060102150405") + digits(8)
	type resource struct {
		OriginalType   string `json:"original_type"`
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
	}
	body, _ := json.Marshal(struct {
		ID           string   `json:"id"`
		CreateTime   string   `json:"create_time"`
		ResourceType string   `json:"resource_type"`
		EventType    string   `json:"event_type"`
		Summary      string   `json:"summary"`
		Resource     resource `json:"resource"`
	}{id, now.In(cst).Format(time.RFC3339), "encrypt-resource", eventType, summary,
		resource{originalType, "AEAD_AES_256_GCM", ct, originalType, nonce}})

	p := s.pay
	p.mu.Lock()
	defer p.mu.Unlock()
	opts := p.settingsOf(mchID)
	if override != nil {
		opts = *override
	}
	d := &delivery{ID: id, Kind: "notification", EventType: eventType, OutTradeNo: outTradeNo, OutRefundNo: outRefundNo,
		URL: url, mchID: mchID, body: body, opts: opts}
	p.record(d)
	if opts.Hold {
		d.Held = true
		p.held[mchID] = append(p.held[mchID], d)
		return
	}
	p.schedule(time.Duration(opts.DelayMS)*time.Millisecond, func() { s.runChain(d) })
}

// record keeps d for the notifications endpoint. Callers hold p.mu.
func (p *payState) record(d *delivery) {
	l := append(p.deliveries[d.mchID], d)
	if len(l) > maxDeliveriesKept {
		l = l[len(l)-maxDeliveriesKept:]
	}
	p.deliveries[d.mchID] = l
}

// runChain sends the faults asked for (probe, stripped, tampered copies,
// each once) and then the first attempt of the notification itself, which
// retries on the schedule.
func (s *Server) runChain(d *delivery) {
	for _, kind := range []string{"probe", "stripped", "tampered"} {
		on := map[string]bool{"probe": d.opts.Probe, "stripped": d.opts.StripHeaders, "tampered": d.opts.Tamper}[kind]
		if !on {
			continue
		}
		c := &delivery{ID: d.ID, Kind: kind, EventType: d.EventType, OutTradeNo: d.OutTradeNo, OutRefundNo: d.OutRefundNo,
			URL: d.URL, mchID: d.mchID, body: d.body, opts: d.opts}
		s.pay.mu.Lock()
		s.pay.record(c)
		s.pay.mu.Unlock()
		s.send(c)
	}
	s.attemptDelivery(d, 0)
}

// attemptDelivery makes attempt n of a notification and schedules the next
// one if it was not acknowledged.
func (s *Server) attemptDelivery(d *delivery, n int) {
	if !s.send(d) {
		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		if n >= len(retrySchedule) {
			d.GaveUp = true
			return
		}
		p.schedule(p.scaled(retrySchedule[n], d.opts), func() { s.attemptDelivery(d, n+1) })
		return
	}
	for range d.opts.Duplicate {
		c := &delivery{ID: d.ID, Kind: "duplicate", EventType: d.EventType, OutTradeNo: d.OutTradeNo, OutRefundNo: d.OutRefundNo,
			URL: d.URL, mchID: d.mchID, body: d.body, opts: d.opts}
		s.pay.mu.Lock()
		s.pay.record(c)
		s.pay.mu.Unlock()
		s.send(c)
	}
}

// send posts d once, signed as its kind asks, and records the answer. It
// reports whether the merchant acknowledged it (2xx).
func (s *Server) send(d *delivery) bool {
	body := d.body
	now := s.now().Add(time.Duration(d.opts.SkewSeconds) * time.Second)
	accept := ""
	if d.opts.SignWith == "public_key" {
		accept = s.pay.keysOf(s.seed, d.mchID).pubKeyID
	}
	h := s.paySignature(d.mchID, accept, now, body)
	switch d.Kind {
	case "probe":
		junk := make([]byte, 256)
		rand.Read(junk)
		h["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + base64.StdEncoding.EncodeToString(junk)
	case "tampered":
		body = bytes.Replace(body, []byte(`"summary":"`), []byte(`"summary":"(altered) `), 1)
	case "stripped":
		h = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	a := attempt{At: s.now().In(cst).Format(time.RFC3339Nano)}
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Mozilla/4.0")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		if h != nil {
			req.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
		}
		req.Header.Set("Request-ID", "08"+randomString("0123456789ABCDEF", 30))
		var resp *http.Response
		if resp, err = s.pay.http.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			a.Status = resp.StatusCode
		}
	}
	if err != nil {
		a.Error = err.Error()
	}
	ok := a.Status >= 200 && a.Status <= 299
	s.pay.mu.Lock()
	d.Attempts = append(d.Attempts, a)
	if ok {
		d.Acknowledged = true
	}
	s.pay.mu.Unlock()
	s.log.Info("sandbox: wechat pay notification", "mchid", d.mchID, "id", d.ID, "kind", d.Kind, "status", a.Status, "error", a.Error)
	return ok
}

// sealGCM encrypts as WeChat Pay does: AES-256-GCM, ASCII nonce and
// associated data, base64 of ciphertext with the tag appended.
func sealGCM(key []byte, nonce, ad string, plain []byte) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plain, []byte(ad))), nil
}

// payRequest is what wx.requestPayment takes, plus the sandbox's switches.
type payRequest struct {
	AppID     string         `json:"appId"`
	TimeStamp string         `json:"timeStamp"`
	NonceStr  string         `json:"nonceStr"`
	Package   string         `json:"package"`
	SignType  string         `json:"signType"`
	PaySign   string         `json:"paySign"`
	Notify    *notifyOptions `json:"notify"`
}

// controlPay serves POST /sandbox/v1/pay: the payer confirms
// wx.requestPayment. The paySign is checked with the merchant's key, the
// order is marked paid and its notification is sent.
func (s *Server) controlPay(w http.ResponseWriter, r *http.Request) {
	var req payRequest
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Notify != nil {
		if msg := req.Notify.check(); msg != "" {
			writeControlError(w, http.StatusBadRequest, "invalid", msg)
			return
		}
	}
	prepayID, ok := strings.CutPrefix(req.Package, "prepay_id=")
	switch {
	case !ok || prepayID == "":
		writeControlError(w, http.StatusBadRequest, "invalid", `"package" must be "prepay_id=" followed by the prepay id`)
		return
	case req.SignType != "RSA":
		writeControlError(w, http.StatusBadRequest, "invalid", `"signType" must be "RSA"`)
		return
	case req.TimeStamp == "" || !inAlphabet(req.TimeStamp, "0123456789") || req.NonceStr == "" || len(req.NonceStr) > 32:
		writeControlError(w, http.StatusBadRequest, "invalid", `"timeStamp" must be Unix seconds and "nonceStr" at most 32 characters`)
		return
	}
	p := s.pay
	p.mu.Lock()
	o := p.prepays[prepayID]
	var mchID string
	if o != nil {
		mchID = o.mchID
	}
	p.mu.Unlock()
	if o == nil {
		writeControlError(w, http.StatusNotFound, "prepay_not_found", "no open order has this prepay_id (unknown, closed or replaced)")
		return
	}
	k := s.pay.keysOf(s.seed, mchID)
	sig, err := base64.StdEncoding.DecodeString(req.PaySign)
	sum := sha256.Sum256([]byte(req.AppID + "\n" + req.TimeStamp + "\n" + req.NonceStr + "\n" + req.Package + "\n"))
	if err != nil || rsa.VerifyPKCS1v15(&k.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		writeControlError(w, http.StatusBadRequest, "sign_error", "paySign does not verify with the merchant's key (支付验证签名失败)")
		return
	}

	now := s.now()
	p.mu.Lock()
	var fail string
	switch {
	case req.AppID != o.payerApp():
		fail = "appId is not the Mini Program the order is for (" + o.payerApp() + ")"
	case o.state == "CLOSED":
		fail = "the order is closed"
	case o.state != "NOTPAY":
		fail = "the order is already paid"
	case now.Sub(o.prepayAt) >= prepayLifetime:
		fail = "the prepay_id expired (2 hours)"
	case !now.Before(o.expires):
		fail = "the order expired (time_expire)"
	}
	if fail != "" {
		p.mu.Unlock()
		writeControlError(w, http.StatusConflict, "cannot_pay", fail)
		return
	}
	o.state = "SUCCESS"
	o.txnID = "4200" + digits(24)
	o.successTime = now
	o.payerTotal, o.rate = o.total, 100000000
	if o.api == payGlobal {
		o.rate = globalCurrencies[o.currency]
		minor := int64(100)
		if o.currency == "JPY" || o.currency == "KRW" {
			minor = 1
		}
		o.payerTotal = (o.total*o.rate/minor*100 + 50_000_000) / 100_000_000
	}
	p.txns[o.txnID] = o
	delete(p.prepays, o.prepayID)
	plain := o.transaction()
	reply := struct {
		OutTradeNo    string `json:"out_trade_no"`
		TransactionID string `json:"transaction_id"`
		TradeState    string `json:"trade_state"`
		PayerTotal    int64  `json:"payer_total"`
	}{o.outTradeNo, o.txnID, o.state, o.payerTotal}
	p.mu.Unlock()

	s.notify(mchID, o.notifyURL, "TRANSACTION.SUCCESS", "支付成功", "transaction", plain, o.outTradeNo, "", req.Notify)
	writeJSON(w, ctJSON, http.StatusOK, reply)
}

// mchOf validates the "mchid" of a control request.
func (s *Server) mchOf(w http.ResponseWriter, mchID string) bool {
	if s.signingKind(mchID) == "" {
		writeControlError(w, http.StatusBadRequest, "invalid", `"mchid" must be a sandbox merchant id (see /sandbox/v1/pay/merchants)`)
		return false
	}
	return true
}

// controlNotifySettings serves POST /sandbox/v1/pay/notify-settings:
// {"mchid", …notifyOptions} replaces the merchant's settings.
func (s *Server) controlNotifySettings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID string `json:"mchid"`
		notifyOptions
	}
	if !decodeControl(w, r, &req) || !s.mchOf(w, req.MchID) {
		return
	}
	if msg := req.check(); msg != "" {
		writeControlError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	s.pay.mu.Lock()
	o := req.notifyOptions
	s.pay.settings[req.MchID] = &o
	s.pay.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, req)
}

// controlNotifyRelease serves POST /sandbox/v1/pay/notify-release:
// {"mchid","order":"fifo"|"reverse"} sends the held notifications one after
// the other.
func (s *Server) controlNotifyRelease(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID string `json:"mchid"`
		Order string `json:"order"`
	}
	if !decodeControl(w, r, &req) || !s.mchOf(w, req.MchID) {
		return
	}
	if req.Order != "" && req.Order != "fifo" && req.Order != "reverse" {
		writeControlError(w, http.StatusBadRequest, "invalid", `"order" must be "fifo" or "reverse"`)
		return
	}
	p := s.pay
	p.mu.Lock()
	list := p.held[req.MchID]
	delete(p.held, req.MchID)
	for _, d := range list {
		d.Held = false
	}
	p.mu.Unlock()
	if req.Order == "reverse" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	go func() {
		for _, d := range list {
			s.runChain(d)
		}
	}()
	writeJSON(w, ctJSON, http.StatusOK, map[string]int{"released": len(list)})
}

// controlNotifications serves POST /sandbox/v1/pay/notifications: {"mchid"}
// -> every notification sent to the merchant (the last 1000) with its
// attempts.
func (s *Server) controlNotifications(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID string `json:"mchid"`
	}
	if !decodeControl(w, r, &req) || !s.mchOf(w, req.MchID) {
		return
	}
	p := s.pay
	p.mu.Lock()
	out := make([]delivery, 0, len(p.deliveries[req.MchID]))
	for _, d := range p.deliveries[req.MchID] {
		c := *d
		c.Attempts = append([]attempt{}, d.Attempts...)
		out = append(out, c)
	}
	p.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string][]delivery{"notifications": out})
}

// payFault is a queued error answer.
type payFault struct {
	e    *payAPIError
	left int
}

var payFaultAPIs = map[string]bool{"prepay": true, "query": true, "close": true, "refund": true, "refund_query": true, "certificates": true}

// controlPayFaults serves POST /sandbox/v1/pay/faults: the next count
// authenticated calls of api by mchid answer status with code and message.
func (s *Server) controlPayFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID   string `json:"mchid"`
		API     string `json:"api"`
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Count   *int   `json:"count"`
	}
	if !decodeControl(w, r, &req) || !s.mchOf(w, req.MchID) {
		return
	}
	count := 1
	if req.Count != nil {
		count = *req.Count
	}
	switch {
	case !payFaultAPIs[req.API]:
		writeControlError(w, http.StatusBadRequest, "invalid", `"api" must be prepay, query, close, refund, refund_query or certificates`)
		return
	case req.Status < 400 || req.Status > 599:
		writeControlError(w, http.StatusBadRequest, "invalid", `"status" must be an HTTP error status (400-599)`)
		return
	case req.Code == "" || len(req.Code) > 64:
		writeControlError(w, http.StatusBadRequest, "invalid", `"code" is required, such as NOT_ENOUGH or SYSTEM_ERROR`)
		return
	case count < 1 || count > 1000:
		writeControlError(w, http.StatusBadRequest, "invalid", `"count" must be between 1 and 1000`)
		return
	}
	if req.Message == "" {
		req.Message = map[string]string{"NOT_ENOUGH": "基本账户余额不足，请充值后重新发起", "SYSTEM_ERROR": "系统错误", "FREQUENCY_LIMITED": "频率超限"}[req.Code]
	}
	p := s.pay
	p.mu.Lock()
	key := req.MchID + " " + req.API
	p.faults[key] = append(p.faults[key], payFault{perr(req.Status, req.Code, req.Message), count})
	p.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string]any{"mchid": req.MchID, "api": req.API, "queued": count})
}

// takeFault pops a queued error for mchid's call of api.
func (p *payState) takeFault(mchID, api string) *payAPIError {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := mchID + " " + api
	q := p.faults[key]
	if len(q) == 0 {
		return nil
	}
	e := q[0].e
	q[0].left--
	if q[0].left <= 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(p.faults, key)
	} else {
		p.faults[key] = q
	}
	return e
}
