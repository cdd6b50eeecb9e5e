package wechatpay

// The customs declaration of payments (支付报关): WeChat Pay pushes the
// payment record of an order to customs for the 三单 comparison. Direct
// merchants and service providers use the v2 XML API (MD5-signed with the
// API v2 key); WeChat Pay Global merchants use the v3 JSON API under
// /v3/global/customs, signed like every other v3 call. Customs declares
// return at once with state UNDECLARED; WeChat Pay submits in batches, so
// the merchant polls until SUCCESS or FAIL.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Customs declaration states (state).
const (
	CustomsUndeclared = "UNDECLARED" // accepted, waiting for the next batch
	CustomsSubmitted  = "SUBMITTED"
	CustomsProcessing = "PROCESSING"
	CustomsSuccess    = "SUCCESS"
	CustomsFail       = "FAIL"
	CustomsExcept     = "EXCEPT" // the customs interface failed
)

// Identity check results (cert_check_result).
const (
	CertUnchecked = "UNCHECKED"
	CertSame      = "SAME"
	CertDifferent = "DIFFERENT" // the buyer named is not the payer
)

// CustomsOrder is the declaration of one payment, or of one sub-order of a
// payment split over several customs orders. Amounts are fen.
type CustomsOrder struct {
	OutTradeNo    string
	TransactionID string
	// Customs is the customs office code (HANGZHOU_ZS, SHANGHAI_ZS, …);
	// MchCustomsNo the merchant's customs registration number.
	Customs      string
	MchCustomsNo string
	// Duty is the tax, for information (not sent to customs); 0 omits it.
	Duty int64
	// SubOrderNo marks a split order; OrderFee = TransportFee + ProductFee
	// is then the part of the payment this customs order covers.
	SubOrderNo   string
	OrderFee     int64
	TransportFee int64
	ProductFee   int64
	// CertID and Name are the buyer's resident ID card number and real name
	// for the identity check (optional, both or neither).
	CertID string
	Name   string
}

// CustomsRecord is a declaration as WeChat Pay reports it.
type CustomsRecord struct {
	OutTradeNo              string
	TransactionID           string
	SubOrderNo              string
	SubOrderID              string
	Customs                 string
	MchCustomsNo            string
	State                   string
	Explanation             string // why it failed, when it did
	ModifyTime              time.Time
	CertCheckResult         string
	VerifyDepartment        string
	VerifyDepartmentTradeID string
	OrderFee                int64
	TransportFee            int64
	ProductFee              int64
	Duty                    int64
}

// CustomsQuery names what to query: one of SubOrderID, SubOrderNo,
// TransactionID, OutTradeNo (in that precedence), at Customs.
type CustomsQuery struct {
	Customs       string
	OutTradeNo    string
	TransactionID string
	SubOrderNo    string
	SubOrderID    string
}

// CustomsClient declares payments of one merchant to customs. Create it
// with Client.Customs.
type CustomsClient struct {
	c     *Client
	v2Key string
}

// Customs returns the customs declaration client of the merchant. v2Key
// is the merchant's API v2 key, which signs the v2 XML API of direct
// merchants and service providers; empty means Config.APIv2Key, and without
// one the APIv3 key (a merchant must then set the same 32 characters as its
// v2 key). Global merchants use the v3 API and need no v2 key.
func (c *Client) Customs(v2Key string) *CustomsClient {
	if v2Key == "" {
		v2Key = string(c.apiV2Key)
	}
	if v2Key == "" {
		v2Key = string(c.apiV3Key)
	}
	return &CustomsClient{c: c, v2Key: v2Key}
}

var (
	customsCodePattern  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`)
	mchCustomsNoPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)
	certIDPattern       = regexp.MustCompile(`^[0-9]{17}[0-9X]$`)
)

// check validates a declaration locally (ErrConfig), before anything is sent.
func (o *CustomsOrder) check() error {
	if err := checkOutNo("out_trade_no", o.OutTradeNo); err != nil {
		return err
	}
	if !txnIDPattern.MatchString(o.TransactionID) {
		return configError("transaction_id must be letters and digits")
	}
	if !customsCodePattern.MatchString(o.Customs) {
		return configError("customs %.40q must be a customs office code such as HANGZHOU_ZS", o.Customs)
	}
	if o.Customs != "NO" && !mchCustomsNoPattern.MatchString(o.MchCustomsNo) {
		return configError("mch_customs_no must be 1 to 32 letters and digits")
	}
	if o.Duty < 0 {
		return configError("duty must not be negative")
	}
	if o.SubOrderNo != "" {
		if err := checkOutNo("sub_order_no", o.SubOrderNo); err != nil {
			return err
		}
		if o.OrderFee <= 0 || o.TransportFee < 0 || o.ProductFee < 0 || o.OrderFee != o.TransportFee+o.ProductFee {
			return configError("a sub-order needs order_fee (%d) = transport_fee (%d) + product_fee (%d), positive", o.OrderFee, o.TransportFee, o.ProductFee)
		}
	}
	if (o.CertID == "") != (o.Name == "") {
		return configError("the identity check needs both the ID number and the name")
	}
	if o.CertID != "" && !certIDPattern.MatchString(o.CertID) {
		return configError("cert_id must be an 18-character resident ID number (upper-case X)")
	}
	return nil
}

// Declare declares a payment (or a sub-order of it). Declaring the same
// order again with the same content returns the existing declaration:
// WeChat Pay keys it by out_trade_no and sub_order_no. Refusals are
// *APIError (for example PARAM_ERROR); bad input fails locally with
// ErrConfig.
func (cc *CustomsClient) Declare(ctx context.Context, o CustomsOrder) (*CustomsRecord, error) {
	return cc.send(ctx, o, false)
}

// Modify changes the amounts (or the merchant customs number) of a
// declaration, after a partial refund for example. WeChat Pay then declares
// it again: the state starts over from UNDECLARED.
func (cc *CustomsClient) Modify(ctx context.Context, o CustomsOrder) (*CustomsRecord, error) {
	return cc.send(ctx, o, true)
}

// send checks o and declares (ADD, POST) or modifies (MODIFY, PATCH) it.
func (cc *CustomsClient) send(ctx context.Context, o CustomsOrder, modify bool) (*CustomsRecord, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	method, action := "POST", "ADD"
	if modify {
		method, action = "PATCH", "MODIFY"
	}
	if cc.c.mode == ModeGlobal {
		return cc.v3Declare(ctx, method, o)
	}
	return cc.v2Declare(ctx, o, action)
}

// Redeclare asks WeChat Pay to push a declaration to customs again (after
// FAIL or EXCEPT, or when customs lost it). Name it by OutTradeNo or
// TransactionID, and SubOrderNo for a split order.
func (cc *CustomsClient) Redeclare(ctx context.Context, o CustomsOrder) (*CustomsRecord, error) {
	if err := checkOutNo("out_trade_no", o.OutTradeNo); err != nil {
		return nil, err
	}
	if !customsCodePattern.MatchString(o.Customs) || (o.Customs != "NO" && !mchCustomsNoPattern.MatchString(o.MchCustomsNo)) {
		return nil, configError("redeclare needs the customs office and the merchant customs number")
	}
	if o.SubOrderNo != "" {
		if err := checkOutNo("sub_order_no", o.SubOrderNo); err != nil {
			return nil, err
		}
	}
	if cc.c.mode == ModeGlobal {
		body := cc.v3IDs()
		body["out_trade_no"], body["customs"], body["merchant_customs_no"] = o.OutTradeNo, o.Customs, o.MchCustomsNo
		if o.SubOrderNo != "" {
			body["sub_order_no"] = o.SubOrderNo
		}
		var out customsJSON
		if _, err := cc.c.do(ctx, call{op: "customs redeclare", method: "POST", path: "/v3/global/customs/redeclare", in: body, out: &out}); err != nil {
			return nil, err
		}
		r := out.record()
		return &r, nil
	}
	p := cc.v2IDs()
	p["out_trade_no"], p["customs"], p["mch_customs_no"], p["sub_order_no"] = o.OutTradeNo, o.Customs, o.MchCustomsNo, o.SubOrderNo
	m, err := cc.v2Call(ctx, "customs redeclare", "/cgi-bin/mch/newcustoms/customdeclareredeclare", p)
	if err != nil {
		return nil, err
	}
	r := v2Record(m, "")
	return &r, nil
}

// Query returns the declarations of a payment: one per sub-order, or one.
// An unknown payment is an *APIError whose code is INVALID_REQUEST (v2) or
// RESOURCE_NOT_EXISTS / ORDER_NOT_EXIST (v3); see IsCustomsNotFound.
func (cc *CustomsClient) Query(ctx context.Context, q CustomsQuery) ([]CustomsRecord, error) {
	if !customsCodePattern.MatchString(q.Customs) {
		return nil, configError("customs %.40q must be a customs office code", q.Customs)
	}
	typ, no := "", ""
	switch {
	case q.SubOrderID != "":
		typ, no = "sub_order_id", q.SubOrderID
	case q.SubOrderNo != "":
		typ, no = "sub_order_no", q.SubOrderNo
	case q.TransactionID != "":
		typ, no = "transaction_id", q.TransactionID
	case q.OutTradeNo != "":
		typ, no = "out_trade_no", q.OutTradeNo
	default:
		return nil, configError("name the declaration to query")
	}
	if !txnIDPattern.MatchString(strings.NewReplacer("_", "", "-", "", "*", "").Replace(no)) || len(no) > 64 {
		return nil, configError("%s %.70q is not a valid number", typ, no)
	}
	if cc.c.mode == ModeGlobal {
		v := url.Values{"order_type": {typ}, "order_no": {no}, "customs": {q.Customs}, "offset": {"0"}, "limit": {"100"}}
		if cc.c.institutional() {
			v.Set("sp_mchid", cc.c.mchID)
			v.Set("sub_mchid", cc.c.subMchID)
		} else {
			v.Set("mchid", cc.c.mchID)
		}
		v.Set("appid", cc.c.appID)
		var out struct {
			customsJSON
			Data []customsJSON `json:"data"`
		}
		if _, err := cc.c.do(ctx, call{op: "customs query", method: "GET", path: "/v3/global/customs/orders?" + v.Encode(), out: &out}); err != nil {
			return nil, err
		}
		recs := make([]CustomsRecord, 0, len(out.Data))
		for _, d := range out.Data {
			if d.OutTradeNo == "" {
				d.OutTradeNo = out.OutTradeNo
			}
			if d.TransactionID == "" {
				d.TransactionID = out.TransactionID
			}
			if d.VerifyDepartment == "" {
				d.VerifyDepartment, d.VerifyDepartmentTradeID = out.VerifyDepartment, out.VerifyDepartmentTradeID
			}
			recs = append(recs, d.record())
		}
		return recs, nil
	}
	p := cc.v2IDs()
	p["customs"], p[typ] = q.Customs, no
	m, err := cc.v2Call(ctx, "customs query", "/cgi-bin/mch/customs/customdeclarequery", p)
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(m["count"])
	if err != nil || n < 0 || n > 100 {
		return nil, unavailable("customs query", "the answer has no valid count", nil)
	}
	recs := make([]CustomsRecord, 0, n)
	for i := range n {
		recs = append(recs, v2Record(m, "_"+strconv.Itoa(i)))
	}
	return recs, nil
}

// IsCustomsNotFound reports whether err says WeChat Pay has no such
// declaration.
func IsCustomsNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == "RESOURCE_NOT_EXISTS" || e.Code == "ORDER_NOT_EXIST" || e.Code == "NOT_FOUND" ||
		(e.Code == "INVALID_REQUEST" && strings.Contains(e.Message, "不存在"))
}

// ---- v3 (WeChat Pay Global) ----

type customsJSON struct {
	AppID                   string `json:"appid,omitempty"`
	MchID                   string `json:"mchid,omitempty"`
	SpMchID                 string `json:"sp_mchid,omitempty"`
	SubMchID                string `json:"sub_mchid,omitempty"`
	OutTradeNo              string `json:"out_trade_no,omitempty"`
	TransactionID           string `json:"transaction_id,omitempty"`
	Customs                 string `json:"customs,omitempty"`
	MerchantCustomsNo       string `json:"merchant_customs_no,omitempty"`
	Duty                    int64  `json:"duty,omitempty"`
	SubOrderNo              string `json:"sub_order_no,omitempty"`
	SubOrderID              string `json:"sub_order_id,omitempty"`
	FeeType                 string `json:"fee_type,omitempty"`
	OrderFee                *int64 `json:"order_fee,omitempty"` // pointers: a split order sends 0 too
	TransportFee            *int64 `json:"transport_fee,omitempty"`
	ProductFee              *int64 `json:"product_fee,omitempty"`
	CertificateType         string `json:"certificate_type,omitempty"`
	CertificateID           string `json:"certificate_id,omitempty"`
	CertificateName         string `json:"certificate_name,omitempty"`
	State                   string `json:"state,omitempty"`
	Explanation             string `json:"explanation,omitempty"`
	ModifyTime              string `json:"modify_time,omitempty"`
	CertCheckResult         string `json:"cert_check_result,omitempty"`
	VerifyDepartment        string `json:"verify_department,omitempty"`
	VerifyDepartmentTradeID string `json:"verify_department_trade_id,omitempty"`
}

func (j customsJSON) record() CustomsRecord {
	t, _ := time.ParseInLocation(time.RFC3339, j.ModifyTime, cst)
	return CustomsRecord{OutTradeNo: j.OutTradeNo, TransactionID: j.TransactionID, SubOrderNo: j.SubOrderNo, SubOrderID: j.SubOrderID,
		Customs: j.Customs, MchCustomsNo: j.MerchantCustomsNo, State: j.State, Explanation: j.Explanation, ModifyTime: t,
		CertCheckResult: j.CertCheckResult, VerifyDepartment: j.VerifyDepartment, VerifyDepartmentTradeID: j.VerifyDepartmentTradeID,
		OrderFee: deref(j.OrderFee), TransportFee: deref(j.TransportFee), ProductFee: deref(j.ProductFee), Duty: j.Duty}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// v3IDs are the merchant fields of a v3 customs request body.
func (cc *CustomsClient) v3IDs() map[string]any {
	if cc.c.institutional() {
		return map[string]any{"sp_mchid": cc.c.mchID, "sub_mchid": cc.c.subMchID, "appid": cc.c.appID}
	}
	return map[string]any{"mchid": cc.c.mchID, "appid": cc.c.appID}
}

// v3Declare sends a declaration (POST) or a modification (PATCH). The
// identity fields are encrypted RSAES-PKCS1-v1_5 with the key the request's
// Wechatpay-Serial names, as the customs API asks.
func (cc *CustomsClient) v3Declare(ctx context.Context, method string, o CustomsOrder) (*CustomsRecord, error) {
	j := customsJSON{OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID, Customs: o.Customs, MerchantCustomsNo: o.MchCustomsNo,
		Duty: o.Duty, SubOrderNo: o.SubOrderNo}
	if cc.c.institutional() {
		j.SpMchID, j.SubMchID, j.AppID = cc.c.mchID, cc.c.subMchID, cc.c.appID
	} else {
		j.MchID, j.AppID = cc.c.mchID, cc.c.appID
	}
	if o.SubOrderNo != "" {
		j.FeeType, j.OrderFee, j.TransportFee, j.ProductFee = "CNY", &o.OrderFee, &o.TransportFee, &o.ProductFee
	}
	if o.CertID != "" && method == "POST" {
		key := cc.c.verifier.key(cc.c.verifier.acceptSerial())
		if key == nil {
			return nil, configError("customs: no WeChat Pay key to encrypt the identity with")
		}
		var err error
		if j.CertificateID, err = encryptPKCS1(key, o.CertID); err == nil {
			j.CertificateName, err = encryptPKCS1(key, o.Name)
		}
		if err != nil {
			return nil, configError("customs: encrypting the identity: %v", err)
		}
		j.CertificateType = "IDCARD"
	}
	var out customsJSON
	op := "customs declare"
	if method == "PATCH" {
		op = "customs modify"
	}
	if _, err := cc.c.do(ctx, call{op: op, method: method, path: "/v3/global/customs/orders", in: j, out: &out}); err != nil {
		return nil, err
	}
	r := out.record()
	return &r, nil
}

// encryptPKCS1 is base64(RSAES-PKCS1-v1_5(plain)).
func encryptPKCS1(key *rsa.PublicKey, plain string) (string, error) {
	b, err := rsa.EncryptPKCS1v15(rand.Reader, key, []byte(plain))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ---- v2 (XML, MD5) ----

// v2IDs are the merchant fields of a v2 request.
func (cc *CustomsClient) v2IDs() map[string]string {
	p := map[string]string{"appid": cc.c.appID, "mch_id": cc.c.mchID}
	if cc.c.institutional() {
		p["sub_mch_id"] = cc.c.subMchID
	}
	return p
}

func (cc *CustomsClient) v2Declare(ctx context.Context, o CustomsOrder, action string) (*CustomsRecord, error) {
	p := cc.v2IDs()
	p["out_trade_no"], p["transaction_id"], p["customs"], p["mch_customs_no"] = o.OutTradeNo, o.TransactionID, o.Customs, o.MchCustomsNo
	p["action_type"] = action
	if o.Duty > 0 {
		p["duty"] = strconv.FormatInt(o.Duty, 10)
	}
	if o.SubOrderNo != "" {
		p["sub_order_no"], p["fee_type"] = o.SubOrderNo, "CNY"
		p["order_fee"], p["transport_fee"], p["product_fee"] = strconv.FormatInt(o.OrderFee, 10), strconv.FormatInt(o.TransportFee, 10), strconv.FormatInt(o.ProductFee, 10)
	}
	if o.CertID != "" {
		p["cert_type"], p["cert_id"], p["name"] = "IDCARD", o.CertID, o.Name
	}
	op := "customs declare"
	if action == "MODIFY" {
		op = "customs modify"
	}
	m, err := cc.v2Call(ctx, op, "/cgi-bin/mch/customs/customdeclareorder", p)
	if err != nil {
		return nil, err
	}
	r := v2Record(m, "")
	return &r, nil
}

// v2Record reads a record from a flat v2 answer; suffix is "" or "_N" for
// the indexed fields of a query answer.
func v2Record(m map[string]string, suffix string) CustomsRecord {
	f := func(k string) string {
		if v, ok := m[k+suffix]; ok {
			return v
		}
		return m[k]
	}
	n := func(k string) int64 { v, _ := strconv.ParseInt(m[k+suffix], 10, 64); return v }
	t, _ := time.ParseInLocation("20060102150405", f("modify_time"), cst)
	return CustomsRecord{OutTradeNo: m["out_trade_no"], TransactionID: m["transaction_id"], SubOrderNo: m["sub_order_no"+suffix],
		SubOrderID: m["sub_order_id"+suffix], Customs: f("customs"), MchCustomsNo: f("mch_customs_no"), State: f("state"),
		Explanation: m["explanation"+suffix], ModifyTime: t, CertCheckResult: f("cert_check_result"),
		VerifyDepartment: f("verify_department"), VerifyDepartmentTradeID: f("verify_department_trade_id"),
		OrderFee: n("order_fee"), TransportFee: n("transport_fee"), ProductFee: n("product_fee"), Duty: n("duty")}
}

// v2Call signs p, posts it as XML and returns the verified answer's
// fields. return_code FAIL (a refused request) and result_code FAIL (a
// refused operation) become *APIError; SYSTEMERROR matches ErrUnavailable.
func (cc *CustomsClient) v2Call(ctx context.Context, op, path string, p map[string]string) (map[string]string, error) {
	p["sign_type"] = "MD5"
	p["sign"] = V2Sign(p, cc.v2Key)
	body, err := EncodeV2XML(p)
	if err != nil {
		return nil, configError("%s: %v", op, err)
	}
	m, status, err := cc.c.postXML(ctx, op, cc.c.base.EscapedPath()+path, body)
	if err != nil {
		return nil, err
	}
	if m["return_code"] != "SUCCESS" {
		code := "FAIL"
		if strings.Contains(m["return_msg"], "签名") || strings.Contains(strings.ToLower(m["return_msg"]), "sign") {
			code = "SIGN_ERROR"
		}
		return nil, &APIError{Status: status, Code: code, Message: m["return_msg"]}
	}
	if m["sign"] == "" || !V2Verify(m, cc.v2Key) {
		return nil, sigError(ReasonBadSignature, "", "%s: the v2 answer's MD5 sign does not verify", op)
	}
	if m["result_code"] != "SUCCESS" {
		e := &APIError{Status: status, Code: m["err_code"], Message: m["err_code_des"]}
		if e.Code == "" {
			e.Code = "FAIL"
		}
		if e.Code == "SYSTEMERROR" {
			return nil, unavailable(op, "SYSTEMERROR: "+e.Message, nil)
		}
		return nil, e
	}
	return m, nil
}

// Global reports whether declarations go through the v3 Global API (else
// the v2 XML API).
func (cc *CustomsClient) Global() bool { return cc.c.mode == ModeGlobal }
