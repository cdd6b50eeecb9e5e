package sandbox

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of the WeChat Pay sandbox.
const (
	payMaxBody     = 64 << 10
	paySkew        = 5 * time.Minute
	prepayLifetime = 2 * time.Hour
	defaultExpiry  = 7 * 24 * time.Hour
	maxExpiry      = 15 * 24 * time.Hour
	maxOrders      = 200_000
)

// payAPIError is a v3 error answer.
type payAPIError struct {
	status  int
	code    string
	message string
}

func perr(status int, code, message string) *payAPIError {
	return &payAPIError{status, code, message}
}

func paramError(msg string) *payAPIError { return perr(http.StatusBadRequest, "PARAM_ERROR", msg) }

// payReq is an authenticated v3 request.
type payReq struct {
	r      *http.Request
	mchID  string // the merchant that signed (Authorization mchid)
	kind   string // its kind
	body   []byte
	now    time.Time
	accept string // Wechatpay-Serial of the request
}

type payHandler func(*payReq) (status int, reply any, e *payAPIError)

// mountPay registers the WeChat Pay v3 routes and their control endpoints.
func (s *Server) mountPay(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	route := func(pattern, api string, h payHandler) {
		mux.HandleFunc(pattern, s.payEndpoint(api, h))
	}
	for _, m := range []string{payDirect, payPartner, payGlobal} {
		base := txnBase(m)
		route("POST "+base+"/jsapi", "prepay", s.prepay(m))
		route("GET "+base+"/out-trade-no/{no}", "query", s.query(m, false))
		route("GET "+base+"/id/{id}", "query", s.query(m, true))
		route("POST "+base+"/out-trade-no/{no}/close", "close", s.closeOrder(m))
	}
	route("POST /v3/refund/domestic/refunds", "refund", s.refund(false))
	route("GET /v3/refund/domestic/refunds/{no}", "refund_query", s.refundQuery(false))
	route("POST /v3/global/refunds", "refund", s.refund(true))
	route("GET /v3/global/refunds/out-refund-no/{no}", "refund_query", s.refundQuery(true))
	route("GET /v3/certificates", "certificates", s.certificates)
	mux.HandleFunc("/v3/", s.payEndpoint("unknown", func(*payReq) (int, any, *payAPIError) {
		return 0, nil, perr(http.StatusNotFound, "NOT_FOUND", "请求的资源不存在")
	}))

	control["/sandbox/v1/pay/merchants"] = s.controlPayMerchants
	control["/sandbox/v1/pay"] = s.controlPay
	control["/sandbox/v1/pay/notify-settings"] = s.controlNotifySettings
	control["/sandbox/v1/pay/notify-release"] = s.controlNotifyRelease
	control["/sandbox/v1/pay/notifications"] = s.controlNotifications
	control["/sandbox/v1/pay/faults"] = s.controlPayFaults
	control["/sandbox/v1/pay/notify-replay"] = s.controlNotifyReplay
	s.mountPayBill(mux, control)
}

// The three APIs (and their path prefixes).
const (
	payDirect  = "direct"
	payPartner = "partner"
	payGlobal  = "global"
)

func txnBase(api string) string {
	switch api {
	case payPartner:
		return "/v3/pay/partner/transactions"
	case payGlobal:
		return "/v3/global/transactions"
	}
	return "/v3/pay/transactions"
}

// payEndpoint authenticates the request (401 SIGN_ERROR otherwise), applies
// injected faults, runs h and signs whatever it answers.
func (s *Server) payEndpoint(api string, h payHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, payMaxBody))
		if err != nil {
			s.payWrite(w, r, "", now, 0, nil, perr(http.StatusRequestEntityTooLarge, "PARAM_ERROR", "请求体过大"))
			return
		}
		req := &payReq{r: r, body: body, now: now, accept: r.Header.Get("Wechatpay-Serial")}
		if e := s.authenticate(req); e != nil {
			s.log.Info("sandbox: wechat pay refused signature", "api", api, "mchid", req.mchID, "reason", e.message)
			s.payWrite(w, r, req.mchID, now, 0, nil, e)
			return
		}
		if f := s.pay.takeFault(req.mchID, api); f != nil {
			s.payWrite(w, r, req.mchID, now, 0, nil, f)
			return
		}
		status, reply, e := h(req)
		s.log.Info("sandbox: wechat pay", "api", api, "mchid", req.mchID, "status", status, "error", func() string {
			if e != nil {
				return e.code
			}
			return ""
		}())
		s.payWrite(w, r, req.mchID, now, status, reply, e)
	}
}

var authPair = regexp.MustCompile(`^\s*([a-z_]+)="([^"]*)"\s*$`)

// authenticate checks the Authorization header against the raw RequestURI
// and body, with the key derived for the merchant it names.
func (s *Server) authenticate(req *payReq) *payAPIError {
	signErr := func(msg string) *payAPIError { return perr(http.StatusUnauthorized, "SIGN_ERROR", msg) }
	auth := req.r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(auth, " ")
	if !ok || scheme != "WECHATPAY2-SHA256-RSA2048" {
		return signErr("Authorization 不合法: 认证类型应为 WECHATPAY2-SHA256-RSA2048")
	}
	f := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		m := authPair.FindStringSubmatch(part)
		if m == nil {
			return signErr("Authorization 不合法: 无法解析 " + strconv.Quote(truncate(part, 40)))
		}
		f[m[1]] = m[2]
	}
	for _, k := range []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"} {
		if f[k] == "" {
			return signErr("Authorization 缺少 " + k)
		}
	}
	req.mchID = f["mchid"]
	req.kind = s.signingKind(req.mchID)
	if req.kind == "" {
		req.mchID = ""
		return signErr("商户号 " + truncate(f["mchid"], 32) + " 不存在")
	}
	ts, err := strconv.ParseInt(f["timestamp"], 10, 64)
	if err != nil {
		return signErr("timestamp 不合法")
	}
	if d := req.now.Sub(time.Unix(ts, 0)); d >= paySkew || d <= -paySkew {
		return signErr("请求已过期: timestamp 与服务器时间相差超过 5 分钟")
	}
	k := s.pay.keysOf(s.seed, req.mchID)
	if !strings.EqualFold(f["serial_no"], k.serial) {
		return signErr("商户证书序列号 " + truncate(f["serial_no"], 64) + " 有误")
	}
	sig, err := base64.StdEncoding.DecodeString(f["signature"])
	if err != nil {
		return signErr("签名不是 base64")
	}
	msg := req.r.Method + "\n" + req.r.RequestURI + "\n" + f["timestamp"] + "\n" + f["nonce_str"] + "\n" + string(req.body) + "\n"
	sum := sha256.Sum256([]byte(msg))
	if rsa.VerifyPKCS1v15(&k.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return signErr("签名错误")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// payWrite writes a signed answer. WeChat Pay signs with the key the
// request's Wechatpay-Serial names: the merchant's public key id selects the
// WeChat Pay public key, anything else the platform certificate.
func (s *Server) payWrite(w http.ResponseWriter, r *http.Request, mchID string, now time.Time, status int, reply any, e *payAPIError) {
	var body []byte
	switch {
	case e != nil:
		status = e.status
		body, _ = json.Marshal(struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{e.code, e.message})
	case reply != nil:
		var err error
		if body, err = json.Marshal(reply); err != nil {
			panic("sandbox: encoding pay reply: " + err.Error())
		}
	}
	h := w.Header()
	for k, v := range s.paySignature(mchID, r.Header.Get("Wechatpay-Serial"), now, body) {
		h.Set(k, v)
	}
	h.Set("Request-ID", "08"+randomString("0123456789ABCDEF", 30))
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// paySignature returns the Wechatpay-* headers signing body at now.
func (s *Server) paySignature(mchID, accept string, now time.Time, body []byte) map[string]string {
	p := s.pay.platform(s.seed)
	key, serial := p.certKey, p.serial
	if mchID != "" && accept != "" && accept == s.pay.keysOf(s.seed, mchID).pubKeyID {
		key, serial = p.pubKey, accept
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := randomString(alnum, 32)
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		panic("sandbox: signing: " + err.Error())
	}
	return map[string]string{
		"Wechatpay-Serial":    serial,
		"Wechatpay-Signature": base64.StdEncoding.EncodeToString(sig),
		"Wechatpay-Timestamp": ts,
		"Wechatpay-Nonce":     nonce,
	}
}

// decodePay decodes a JSON request body; unknown fields are ignored, as
// WeChat Pay does.
func decodePay(body []byte, v any) *payAPIError {
	if len(body) == 0 {
		return paramError("请求体为空")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return paramError("输入源“/body”映射到字段失败: " + truncate(err.Error(), 120))
	}
	return nil
}
