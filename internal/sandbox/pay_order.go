package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// payOrder is a JSAPI order.
type payOrder struct {
	api                          string
	mchID, subMchID              string // signing merchant, sub-merchant
	appID, spAppID, subAppID     string
	outTradeNo, description      string
	attach, notifyURL, goodsTag  string
	mcc                          string
	total                        int64
	currency                     string
	openID, spOpenID, subOpenID  string
	fingerprint                  string
	prepayID                     string
	prepayAt, createdAt, expires time.Time

	state       string
	txnID       string
	successTime time.Time
	payerTotal  int64
	payerCur    string
	rate        int64
	refunded    int64 // refunds not closed
	opts        *notifyOptions
}

func orderKey(mchID, subMchID, outTradeNo string) string {
	return mchID + "/" + subMchID + "/" + outTradeNo
}

var (
	outTradeNoPattern  = regexp.MustCompile(`^[0-9A-Za-z_\-*]{6,32}$`)
	outRefundNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)
)

// Currencies WeChat Pay Global settles in (minor units: JPY and KRW have
// none), with a fixed sandbox rate to CNY in units of 10⁻⁸.
var globalCurrencies = map[string]int64{
	"CNY": 100000000, "HKD": 92000000, "USD": 720000000, "EUR": 780000000, "GBP": 910000000,
	"JPY": 4800000, "KRW": 520000, "AUD": 470000000, "CAD": 520000000, "NZD": 430000000,
	"SGD": 530000000, "THB": 20000000, "CHF": 810000000, "DKK": 105000000, "SEK": 68000000, "NOK": 67000000,
}

// mccs are the merchant category codes the sandbox accepts for Global: the
// common retail ones (the real list is longer).
var mccs = map[string]bool{
	"4111": true, "4722": true, "5045": true, "5094": true, "5122": true, "5137": true, "5139": true,
	"5311": true, "5411": true, "5499": true, "5621": true, "5651": true, "5661": true, "5691": true,
	"5699": true, "5732": true, "5812": true, "5912": true, "5942": true, "5944": true, "5945": true,
	"5977": true, "5999": true, "7011": true, "8299": true,
}

type prepayBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	SpAppID     string `json:"sp_appid"`
	SpMchID     string `json:"sp_mchid"`
	SubAppID    string `json:"sub_appid"`
	SubMchID    string `json:"sub_mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	Attach      string `json:"attach"`
	NotifyURL   string `json:"notify_url"`
	GoodsTag    string `json:"goods_tag"`
	TradeType   string `json:"trade_type"`
	MCC         string `json:"merchant_category_code"`
	Amount      *struct {
		Total    *int64 `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer *struct {
		OpenID    string `json:"openid"`
		SpOpenID  string `json:"sp_openid"`
		SubOpenID string `json:"sub_openid"`
	} `json:"payer"`
}

// checkMerchant checks that the merchant fields of a body (or query) name
// the merchant that signed and that it may use api; it returns the
// sub-merchant, if any.
func (s *Server) checkMerchant(req *payReq, api, mchID, spMchID, subMchID string) (string, *payAPIError) {
	noAuth := perr(http.StatusForbidden, "NOAUTH", "商户号无权限调用该接口")
	institutional := false
	switch api {
	case payDirect:
		if req.kind != mchDirect {
			return "", noAuth
		}
	case payPartner:
		if req.kind != mchServiceProvider {
			return "", noAuth
		}
		institutional = true
	case payGlobal:
		switch req.kind {
		case mchGlobal:
		case mchGlobalSP:
			institutional = true
		default:
			return "", noAuth
		}
	}
	if !institutional {
		if mchID == "" {
			return "", paramError("mchid 为必填参数")
		}
		if mchID != req.mchID {
			return "", paramError("mchid 与发起调用的商户号不一致")
		}
		if subMchID != "" || spMchID != "" {
			return "", paramError("非服务商模式不可传 sp_mchid / sub_mchid")
		}
		return "", nil
	}
	switch {
	case spMchID == "" || subMchID == "":
		return "", paramError("sp_mchid 与 sub_mchid 为必填参数")
	case spMchID != req.mchID:
		return "", paramError("sp_mchid 与发起调用的商户号不一致")
	case !s.validMch(subMchID, mchSub, spMchID):
		return "", perr(http.StatusForbidden, "NOAUTH", "特约商户 "+truncate(subMchID, 20)+" 与服务商不存在绑定关系")
	}
	return subMchID, nil
}

// prepay serves the three JSAPI prepay endpoints.
func (s *Server) prepay(api string) payHandler {
	return func(req *payReq) (int, any, *payAPIError) {
		var b prepayBody
		if e := decodePay(req.body, &b); e != nil {
			return 0, nil, e
		}
		sub, e := s.checkMerchant(req, api, b.MchID, b.SpMchID, b.SubMchID)
		if e != nil {
			return 0, nil, e
		}
		o := &payOrder{api: api, mchID: req.mchID, subMchID: sub, outTradeNo: b.OutTradeNo, description: b.Description,
			attach: b.Attach, notifyURL: b.NotifyURL, goodsTag: b.GoodsTag, mcc: b.MCC, createdAt: req.now}
		institutional := sub != ""
		switch {
		case b.Description == "" || len(b.Description) > 127:
			return 0, nil, paramError("description 长度应为 1 到 127 字节")
		case !outTradeNoPattern.MatchString(b.OutTradeNo):
			return 0, nil, paramError("out_trade_no 应为 6-32 位数字、大小写字母、_-*")
		case b.NotifyURL == "" || len(b.NotifyURL) > 256 || !(strings.HasPrefix(b.NotifyURL, "https://") || strings.HasPrefix(b.NotifyURL, "http://")) || strings.Contains(b.NotifyURL, "?"):
			return 0, nil, paramError("notify_url 应为不带参数的完整 URL")
		case len(b.Attach) > 128:
			return 0, nil, paramError("attach 长度不能超过 128 字节")
		case b.Amount == nil || b.Amount.Total == nil:
			return 0, nil, paramError("amount.total 为必填参数")
		case *b.Amount.Total <= 0 || *b.Amount.Total > 100_000_000_00:
			return 0, nil, paramError("amount.total 应为正整数")
		case b.Payer == nil:
			return 0, nil, paramError("payer 为必填参数")
		}
		o.total = *b.Amount.Total
		o.currency = b.Amount.Currency
		if api == payGlobal {
			switch {
			case b.TradeType != "JSAPI":
				return 0, nil, paramError("trade_type 应为 JSAPI")
			case !mccs[b.MCC]:
				return 0, nil, paramError("$key0$参数格式错误: merchant_category_code")
			case globalCurrencies[o.currency] == 0:
				return 0, nil, paramError("amount.currency 不是支持的币种")
			}
		} else {
			if o.currency == "" {
				o.currency = "CNY"
			}
			if o.currency != "CNY" {
				return 0, nil, paramError("amount.currency 应为 CNY")
			}
			if b.TradeType != "" || b.MCC != "" {
				return 0, nil, paramError("trade_type、merchant_category_code 仅用于境外商户")
			}
		}
		if institutional {
			o.spAppID, o.subAppID = b.SpAppID, b.SubAppID
			o.spOpenID, o.subOpenID = b.Payer.SpOpenID, b.Payer.SubOpenID
			switch {
			case !validAppID(b.SpAppID):
				return 0, nil, paramError("sp_appid 不合法")
			case b.SubAppID != "" && !validAppID(b.SubAppID):
				return 0, nil, paramError("sub_appid 不合法")
			case b.AppID != "" || b.Payer.OpenID != "":
				return 0, nil, paramError("服务商模式请使用 sp_appid / sub_appid 与 sp_openid / sub_openid")
			case (o.spOpenID == "") == (o.subOpenID == ""):
				return 0, nil, paramError("payer.sp_openid 与 payer.sub_openid 必须且只能传一个")
			case o.subOpenID != "" && o.subAppID == "":
				return 0, nil, paramError("传 sub_openid 时 sub_appid 为必填参数")
			case !validOpenID(o.spOpenID + o.subOpenID):
				return 0, nil, paramError("openid 不合法")
			}
		} else {
			o.appID, o.openID = b.AppID, b.Payer.OpenID
			switch {
			case !validAppID(b.AppID):
				return 0, nil, paramError("appid 不合法")
			case b.SpAppID != "" || b.SubAppID != "" || b.Payer.SpOpenID != "" || b.Payer.SubOpenID != "":
				return 0, nil, paramError("普通商户请使用 appid 与 payer.openid")
			case !validOpenID(o.openID):
				return 0, nil, paramError("payer.openid 不合法")
			}
		}
		o.expires = req.now.Add(defaultExpiry)
		if b.TimeExpire != "" {
			t, err := time.Parse(time.RFC3339, b.TimeExpire)
			switch {
			case err != nil:
				return 0, nil, paramError("time_expire 应为 RFC 3339 格式 (yyyy-MM-DDTHH:mm:ss+TIMEZONE)")
			case t.Before(req.now.Add(time.Minute)):
				return 0, nil, paramError("time_expire 应晚于下单时间 1 分钟以上")
			case t.After(req.now.Add(maxExpiry)):
				t = req.now.Add(maxExpiry) // clamped, as WeChat Pay does
			}
			o.expires = t
		}
		h := sha256.Sum256([]byte(strings.Join([]string{o.appID, o.spAppID, o.subAppID, o.openID, o.spOpenID, o.subOpenID,
			o.description, o.currency, fmt.Sprint(o.total), o.api}, "\x00")))
		o.fingerprint = hex.EncodeToString(h[:])

		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		key := orderKey(o.mchID, o.subMchID, o.outTradeNo)
		if old := p.orders[key]; old != nil {
			switch {
			case old.state == "SUCCESS" || old.state == "REFUND":
				return 0, nil, perr(http.StatusForbidden, "ORDERPAID", "该订单已支付")
			case old.state == "CLOSED":
				return 0, nil, perr(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
			case old.fingerprint != o.fingerprint:
				return 0, nil, perr(http.StatusForbidden, "OUT_TRADE_NO_USED", "商户订单号重复")
			}
			if req.now.Sub(old.prepayAt) >= prepayLifetime {
				delete(p.prepays, old.prepayID)
				old.prepayID, old.prepayAt = newPrepayID(req.now), req.now
				p.prepays[old.prepayID] = old
			}
			return http.StatusOK, map[string]string{"prepay_id": old.prepayID}, nil
		}
		if len(p.orders) >= maxOrders {
			return 0, nil, perr(http.StatusTooManyRequests, "FREQUENCY_LIMITED", "sandbox: too many orders in memory")
		}
		o.state = "NOTPAY"
		o.prepayID, o.prepayAt = newPrepayID(req.now), req.now
		p.orders[key] = o
		p.prepays[o.prepayID] = o
		return http.StatusOK, map[string]string{"prepay_id": o.prepayID}, nil
	}
}

func newPrepayID(now time.Time) string {
	return "wx" + now.In(cst).Format("20060102150405") + randomString("0123456789abcdef", 20)
}

// merchantOfQuery reads mchid, or sp_mchid and sub_mchid, from the query.
func (s *Server) merchantOfQuery(req *payReq, api string) (string, *payAPIError) {
	q := req.r.URL.Query()
	return s.checkMerchant(req, api, q.Get("mchid"), q.Get("sp_mchid"), q.Get("sub_mchid"))
}

// query serves GET …/out-trade-no/{no} and …/id/{id}.
func (s *Server) query(api string, byID bool) payHandler {
	return func(req *payReq) (int, any, *payAPIError) {
		sub, e := s.merchantOfQuery(req, api)
		if e != nil {
			return 0, nil, e
		}
		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		var o *payOrder
		if byID {
			o = p.txns[req.r.PathValue("id")]
			if o != nil && (o.mchID != req.mchID || o.subMchID != sub || o.api != api) {
				o = nil
			}
		} else {
			o = p.orders[orderKey(req.mchID, sub, req.r.PathValue("no"))]
			if o != nil && o.api != api {
				o = nil
			}
		}
		if o == nil {
			return 0, nil, perr(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		}
		return http.StatusOK, o.transaction(), nil
	}
}

// closeOrder serves POST …/out-trade-no/{no}/close.
func (s *Server) closeOrder(api string) payHandler {
	return func(req *payReq) (int, any, *payAPIError) {
		var b struct {
			MchID    string `json:"mchid"`
			SpMchID  string `json:"sp_mchid"`
			SubMchID string `json:"sub_mchid"`
		}
		if e := decodePay(req.body, &b); e != nil {
			return 0, nil, e
		}
		sub, e := s.checkMerchant(req, api, b.MchID, b.SpMchID, b.SubMchID)
		if e != nil {
			return 0, nil, e
		}
		p := s.pay
		p.mu.Lock()
		defer p.mu.Unlock()
		o := p.orders[orderKey(req.mchID, sub, req.r.PathValue("no"))]
		if o == nil || o.api != api {
			return 0, nil, perr(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		}
		switch o.state {
		case "SUCCESS", "REFUND":
			return 0, nil, perr(http.StatusBadRequest, "ORDERPAID", "订单已支付，不能关闭")
		case "NOTPAY":
			o.state = "CLOSED"
			delete(p.prepays, o.prepayID)
		}
		return http.StatusNoContent, nil, nil
	}
}

// txnJSON is the Transaction of queries and payment notifications.
type txnJSON struct {
	AppID          string      `json:"appid,omitempty"`
	MchID          string      `json:"mchid,omitempty"`
	SpAppID        string      `json:"sp_appid,omitempty"`
	SpMchID        string      `json:"sp_mchid,omitempty"`
	SubAppID       string      `json:"sub_appid,omitempty"`
	SubMchID       string      `json:"sub_mchid,omitempty"`
	OutTradeNo     string      `json:"out_trade_no"`
	TransactionID  string      `json:"transaction_id,omitempty"`
	TradeType      string      `json:"trade_type,omitempty"`
	TradeState     string      `json:"trade_state"`
	TradeStateDesc string      `json:"trade_state_desc"`
	BankType       string      `json:"bank_type,omitempty"`
	Attach         string      `json:"attach"`
	SuccessTime    string      `json:"success_time,omitempty"`
	Payer          payerJSON   `json:"payer"`
	Amount         amountReply `json:"amount"`
}

type payerJSON struct {
	OpenID    string `json:"openid,omitempty"`
	SpOpenID  string `json:"sp_openid,omitempty"`
	SubOpenID string `json:"sub_openid,omitempty"`
}

type amountReply struct {
	Total         int64     `json:"total"`
	PayerTotal    *int64    `json:"payer_total,omitempty"`
	Currency      string    `json:"currency"`
	PayerCurrency string    `json:"payer_currency"`
	ExchangeRate  *rateJSON `json:"exchange_rate,omitempty"`
}

type rateJSON struct {
	Type string `json:"type"`
	Rate int64  `json:"rate"`
}

var stateDesc = map[string]string{
	"SUCCESS": "支付成功", "REFUND": "转入退款", "NOTPAY": "订单未支付", "CLOSED": "订单已关闭",
}

// transaction renders the order. Callers hold p.mu.
func (o *payOrder) transaction() txnJSON {
	t := txnJSON{OutTradeNo: o.outTradeNo, TradeState: o.state, TradeStateDesc: stateDesc[o.state], Attach: o.attach,
		TradeType: "JSAPI", Payer: payerJSON{OpenID: o.openID, SpOpenID: o.spOpenID, SubOpenID: o.subOpenID}}
	if o.subMchID != "" {
		t.SpMchID, t.SubMchID, t.SpAppID, t.SubAppID = o.mchID, o.subMchID, o.spAppID, o.subAppID
	} else {
		t.MchID, t.AppID = o.mchID, o.appID
	}
	t.Amount = amountReply{Total: o.total, Currency: o.currency, PayerCurrency: "CNY"}
	if o.txnID != "" {
		t.TransactionID, t.BankType, t.SuccessTime = o.txnID, "OTHERS", o.successTime.In(cst).Format(time.RFC3339)
		pt := o.payerTotal
		t.Amount.PayerTotal = &pt
		if o.api == payGlobal {
			t.Amount.ExchangeRate = &rateJSON{Type: "SETTLEMENT_RATE", Rate: o.rate}
		}
	}
	return t
}

// payerApp is the Mini Program the payer pays in, which paySign names.
func (o *payOrder) payerApp() string {
	switch {
	case o.subMchID == "":
		return o.appID
	case o.subOpenID != "":
		return o.subAppID
	}
	return o.spAppID
}

// certificates serves GET /v3/certificates: the platform certificate,
// encrypted with the merchant's APIv3 key.
func (s *Server) certificates(req *payReq) (int, any, *payAPIError) {
	p := s.pay.platform(s.seed)
	k := s.pay.keysOf(s.seed, req.mchID)
	nonce := randomString(alnum, 12)
	ct, err := sealGCM([]byte(k.apiV3Key), nonce, "certificate", []byte(p.certPEM))
	if err != nil {
		return 0, nil, perr(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	}
	type enc struct {
		Algorithm      string `json:"algorithm"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
		Ciphertext     string `json:"ciphertext"`
	}
	type cert struct {
		SerialNo      string `json:"serial_no"`
		EffectiveTime string `json:"effective_time"`
		ExpireTime    string `json:"expire_time"`
		Encrypt       enc    `json:"encrypt_certificate"`
	}
	return http.StatusOK, map[string][]cert{"data": {{
		SerialNo: p.serial, EffectiveTime: p.notBef.Format(time.RFC3339), ExpireTime: p.notAft.Format(time.RFC3339),
		Encrypt: enc{"AEAD_AES_256_GCM", "certificate", nonce, ct},
	}}}, nil
}
