package wechatpay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/sandbox"
)

// The customs declaration client against the sandbox over HTTP: v2 XML
// signed with MD5 for direct merchants and service providers, v3 Global
// signed with RSA (identity encrypted with the platform key), both ways.

// The example of WeChat Pay's v2 signing rule (安全规范, 签名算法).
func TestV2SignOfficialExample(t *testing.T) {
	p := map[string]string{"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test",
		"nonce_str": "ibuaiVcKdpRxkhJA", "empty": "", "sign": "ignored"}
	if got := wechatpay.V2Sign(p, "192006250b4c09247ec02edce69f6a2d"); got != "9A0A8659F005D6984697E2CA0A9CF3B7" {
		t.Fatalf("sign = %s", got)
	}
	p["sign"] = "9a0a8659f005d6984697e2ca0a9cf3b7"
	if !wechatpay.V2Verify(p, "192006250b4c09247ec02edce69f6a2d") || wechatpay.V2Verify(p, "192006250b4c09247ec02edce69f6a2e") {
		t.Fatal("verify")
	}
}

func TestV2XMLRoundTrip(t *testing.T) {
	in := map[string]string{"name": "张三 <&> ]]>", "a": "1", "empty": ""}
	b, err := wechatpay.EncodeV2XML(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wechatpay.DecodeV2XML(b)
	if err != nil || out["name"] != in["name"] || out["a"] != "1" || len(out) != 2 {
		t.Fatalf("%s -> %v %v", b, out, err)
	}
	for _, bad := range []string{"<root><a>1</a></root>", "<xml><a><b>1</b></a></xml>", "<xml><a>1</a><a>2</a></xml>", "<xml><a>1</a>"} {
		if _, err := wechatpay.DecodeV2XML([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if m, err := wechatpay.DecodeV2XML([]byte("<xml><state><![CDATA[SUCCESS]]></state></xml>")); err != nil || m["state"] != "SUCCESS" {
		t.Errorf("CDATA: %v %v", m, err)
	}
}

func FuzzDecodeV2XML(f *testing.F) {
	f.Add([]byte("<xml><return_code><![CDATA[SUCCESS]]></return_code><count>1</count></xml>"))
	f.Add([]byte("<xml><a>1</a><b/></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wechatpay.DecodeV2XML(b)
		if err == nil && len(m) > 500 {
			t.Fatal("too many fields accepted")
		}
	})
}

// paidOrder makes and pays an order of amount fen at the sandbox and
// returns its out_trade_no and transaction id.
func (w *world) paidOrder(c *wechatpay.Client, openID, outTradeNo string, amount int64, currency, mcc string) string {
	w.t.Helper()
	ctx := context.Background()
	p, err := c.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: outTradeNo, Description: "order", NotifyURL: "https://127.0.0.1:9/notify",
		Amount: amount, Currency: currency, OpenID: openID, MerchantCategoryCode: mcc})
	if err != nil {
		w.t.Fatal(err)
	}
	if st, out := w.pay(p.Params, map[string]any{"hold": true}); st != 200 {
		w.t.Fatalf("pay: %d %v", st, out)
	}
	tx, err := c.QueryByOutTradeNo(ctx, outTradeNo)
	if err != nil || !tx.Paid() {
		w.t.Fatalf("query: %+v %v", tx, err)
	}
	return tx.TransactionID
}

type sandboxCount struct {
	Declares, Duplicates, Modifies, Redeclares int
	Records                                    []struct {
		State           string `json:"state"`
		OrderFee        int64  `json:"order_fee"`
		CertCheckResult string `json:"cert_check_result"`
	}
}

func (w *world) customsCount(mchID, subMchID, outTradeNo string) sandboxCount {
	w.t.Helper()
	var c sandboxCount
	if st := w.control("/sandbox/v1/pay/customs-declarations", map[string]string{"mchid": mchID, "sub_mchid": subMchID, "out_trade_no": outTradeNo}, &c); st != 200 {
		w.t.Fatalf("customs-declarations: %d", st)
	}
	return c
}

// customsClient is a client of mode for key, and an openid that can pay.
func (w *world) customsClient(key, mode string) (*wechatpay.Client, merchant, string) {
	w.t.Helper()
	m := w.merchant(key, mode)
	cfg := w.config(m, keys{certs: true, pub: mode == sandbox.PayModeGlobal})
	appID, openID := w.app(key, "alice")
	switch mode {
	case sandbox.PayModeDirect:
		cfg.Mode, cfg.MchID, cfg.AppID = wechatpay.ModeDirect, m.MchID, appID
	case sandbox.PayModeGlobal:
		cfg.Mode, cfg.MchID, cfg.AppID = wechatpay.ModeGlobal, m.MchID, appID
	default:
		cfg.Mode = wechatpay.ModePartner
		if mode == sandbox.PayModeGlobalInstitution {
			cfg.Mode = wechatpay.ModeGlobal
		}
		cfg.SpMchID, cfg.SubMchID, cfg.SpAppID, cfg.SubAppID = m.MchID, m.SubMchID, m.SpAppID, appID
	}
	return newClient(w.t, cfg), m, openID
}

func TestCustomsDeclarationAllModes(t *testing.T) {
	w := newWorld(t)
	for _, mc := range []struct{ name, mode, currency, mcc string }{
		{"direct", sandbox.PayModeDirect, "", ""},
		{"partner", sandbox.PayModePartner, "", ""},
		{"global", sandbox.PayModeGlobal, "CNY", "5977"},
		{"global institution", sandbox.PayModeGlobalInstitution, "CNY", "5977"},
	} {
		t.Run(mc.name, func(t *testing.T) {
			w := &world{t: t, sb: w.sb, srv: w.srv}
			c, m, openID := w.customsClient("customs:"+mc.name, mc.mode)
			cc := c.Customs("")
			if cc.Global() != (c.Mode() == wechatpay.ModeGlobal) {
				t.Fatal("Global()")
			}
			ctx := context.Background()
			no := "CU" + strings.ReplaceAll(mc.name, " ", "") + "01"
			txn := w.paidOrder(c, openID, no, 20_000, mc.currency, mc.mcc)
			// Each step takes 50 ms of sandbox time.
			w.control("/sandbox/v1/pay/customs-faults", map[string]any{"mchid": m.MchID, "step_ms": 50}, nil)
			o := wechatpay.CustomsOrder{OutTradeNo: no, TransactionID: txn, Customs: "HANGZHOU_ZS", MchCustomsNo: "SB00000042", Duty: 1_800,
				SubOrderNo: no, OrderFee: 20_000, TransportFee: 1_000, ProductFee: 19_000, CertID: "11010519491231002x", Name: "张三"}
			o.CertID = strings.ToUpper(o.CertID)
			r, err := cc.Declare(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != wechatpay.CustomsUndeclared || r.CertCheckResult != wechatpay.CertSame || r.TransactionID != txn ||
				r.VerifyDepartment == "" || r.SubOrderNo != no || r.SubOrderID == "" || r.ModifyTime.IsZero() {
				t.Fatalf("declared: %+v", r)
			}
			// The same declaration again: the same record, not a second one.
			if r2, err := cc.Declare(ctx, o); err != nil || r2.SubOrderID != r.SubOrderID {
				t.Fatalf("again: %+v %v", r2, err)
			}
			// Other content under the same numbers needs MODIFY.
			other := o
			other.ProductFee, other.OrderFee, other.TransportFee = 19_000, 19_000, 0 // no freight left: 0 is sent, not left out
			if _, err := cc.Declare(ctx, other); !wechatpay.IsCode(err, "PARAM_ERROR") {
				t.Fatalf("other content: %v", err)
			}
			if n := w.customsCount(m.MchID, m.SubMchID, no); n.Declares != 1 || n.Duplicates != 1 {
				t.Fatalf("sandbox count: %+v", n)
			}
			var recs []wechatpay.CustomsRecord
			deadline := time.Now().Add(5 * time.Second)
			for {
				if recs, err = cc.Query(ctx, wechatpay.CustomsQuery{Customs: "HANGZHOU_ZS", OutTradeNo: no}); err != nil {
					t.Fatal(err)
				}
				if len(recs) == 1 && recs[0].State == wechatpay.CustomsSuccess || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(recs) != 1 || recs[0].State != wechatpay.CustomsSuccess || recs[0].OrderFee != 20_000 || recs[0].SubOrderNo != no || recs[0].CertCheckResult != wechatpay.CertSame {
				t.Fatalf("query: %+v", recs)
			}
			// A partial refund: modify the amounts; WeChat Pay declares again.
			r, err = cc.Modify(ctx, other)
			if err != nil || r.State != wechatpay.CustomsUndeclared {
				t.Fatalf("modify: %+v %v", r, err)
			}
			if _, err := cc.Modify(ctx, other); err != nil {
				t.Fatal(err)
			}
			if n := w.customsCount(m.MchID, m.SubMchID, no); n.Modifies != 1 || len(n.Records) != 1 || n.Records[0].OrderFee != 19_000 {
				t.Fatalf("after modify: %+v", n)
			}
			// By sub-order and by transaction id too.
			if recs, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: "HANGZHOU_ZS", SubOrderID: r.SubOrderID}); err != nil || len(recs) != 1 {
				t.Fatalf("by sub_order_id: %+v %v", recs, err)
			}
			if recs, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: "HANGZHOU_ZS", TransactionID: txn}); err != nil || len(recs) != 1 || recs[0].OrderFee != 19_000 {
				t.Fatalf("by transaction_id: %+v %v", recs, err)
			}
			// Redeclaring while WeChat Pay is still at it is refused.
			w.control("/sandbox/v1/pay/customs-faults", map[string]any{"mchid": m.MchID, "step_ms": 60_000}, nil)
			if _, err := cc.Modify(ctx, o); err != nil {
				t.Fatal(err)
			}
			var ae *wechatpay.APIError
			if _, err := cc.Redeclare(ctx, o); !errors.As(err, &ae) {
				t.Fatalf("redeclare while processing: %v", err)
			}
		})
	}
}

func TestCustomsFailRedeclareAndIdentity(t *testing.T) {
	w := newWorld(t)
	for _, mode := range []string{sandbox.PayModeDirect, sandbox.PayModeGlobal} {
		t.Run(mode, func(t *testing.T) {
			w := &world{t: t, sb: w.sb, srv: w.srv}
			c, m, openID := w.customsClient("customs-fail:"+mode, mode)
			cc := c.Customs("")
			ctx := context.Background()
			cur, mcc := "", ""
			if mode == sandbox.PayModeGlobal {
				cur, mcc = "CNY", "5977"
			}
			w.control("/sandbox/v1/pay/customs-faults", map[string]any{"mchid": m.MchID, "step_ms": 0}, nil)

			// FAIL with WeChat Pay's explanation, then a redeclaration succeeds.
			no := "CF" + mode[:3] + "0001"
			txn := w.paidOrder(c, openID, no, 5_000, cur, mcc)
			w.control("/sandbox/v1/pay/customs-faults", map[string]any{"mchid": m.MchID, "out_trade_no": no, "fail": "海关接口返回:支付人信息不完整"}, nil)
			o := wechatpay.CustomsOrder{OutTradeNo: no, TransactionID: txn, Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1"}
			if _, err := cc.Declare(ctx, o); err != nil {
				t.Fatal(err)
			}
			recs, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: "SHANGHAI_ZS", OutTradeNo: no})
			if err != nil || len(recs) != 1 || recs[0].State != wechatpay.CustomsFail || !strings.Contains(recs[0].Explanation, "支付人信息不完整") ||
				recs[0].CertCheckResult != wechatpay.CertUnchecked {
				t.Fatalf("failed: %+v %v", recs, err)
			}
			if _, err := cc.Redeclare(ctx, o); err != nil {
				t.Fatal(err)
			}
			if recs, err = cc.Query(ctx, wechatpay.CustomsQuery{Customs: "SHANGHAI_ZS", OutTradeNo: no}); err != nil || recs[0].State != wechatpay.CustomsSuccess {
				t.Fatalf("after redeclare: %+v %v", recs, err)
			}
			if n := w.customsCount(m.MchID, "", no); n.Declares != 1 || n.Redeclares != 1 {
				t.Fatalf("count: %+v", n)
			}

			// Someone else paid: the identity check says DIFFERENT.
			no2 := "CD" + mode[:3] + "0002"
			txn2 := w.paidOrder(c, openID, no2, 5_000, cur, mcc)
			r, err := cc.Declare(ctx, wechatpay.CustomsOrder{OutTradeNo: no2, TransactionID: txn2, Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1",
				CertID: "110105194912310029", Name: "代付 李四"})
			if err != nil || r.CertCheckResult != wechatpay.CertDifferent {
				t.Fatalf("buyer ≠ payer: %+v %v", r, err)
			}

			// Refusals: unknown payment, a query of nothing, bad input.
			if _, err := cc.Declare(ctx, wechatpay.CustomsOrder{OutTradeNo: "CUNKNOWN01", TransactionID: "4200000000000000000001", Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1"}); err == nil ||
				!(wechatpay.IsCode(err, "ORDERNOTEXIST") || wechatpay.IsCode(err, "ORDER_NOT_EXIST")) {
				t.Errorf("unknown payment: %v", err)
			}
			if _, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: "SHANGHAI_ZS", OutTradeNo: "CUNKNOWN01"}); !wechatpay.IsCustomsNotFound(err) {
				t.Errorf("query of nothing: %v", err)
			}
			for _, bad := range []wechatpay.CustomsOrder{
				{OutTradeNo: no, TransactionID: txn, Customs: "shanghai", MchCustomsNo: "SB1"},
				{OutTradeNo: no, TransactionID: txn, Customs: "SHANGHAI_ZS"},
				{OutTradeNo: no, TransactionID: txn, Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1", SubOrderNo: no, OrderFee: 100, ProductFee: 90},
				{OutTradeNo: no, TransactionID: txn, Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1", CertID: "12345", Name: "张三"},
				{OutTradeNo: no, TransactionID: txn, Customs: "SHANGHAI_ZS", MchCustomsNo: "SB1", CertID: "110105194912310029"},
			} {
				if _, err := cc.Declare(ctx, bad); !errors.Is(err, wechatpay.ErrConfig) {
					t.Errorf("%+v: %v", bad, err)
				}
			}
		})
	}
}

// A v2 request signed with another key is refused (SIGN_ERROR), and an
// answer whose sign does not verify is not trusted.
func TestCustomsV2WrongKey(t *testing.T) {
	w := newWorld(t)
	c, _, openID := w.customsClient("customs-key", sandbox.PayModeDirect)
	txn := w.paidOrder(c, openID, "CK00000001", 1_000, "", "")
	_, err := c.Customs("0123456789abcdef0123456789abcdef").Declare(context.Background(),
		wechatpay.CustomsOrder{OutTradeNo: "CK00000001", TransactionID: txn, Customs: "NINGBO", MchCustomsNo: "SB1"})
	if !wechatpay.IsCode(err, "SIGN_ERROR") {
		t.Fatalf("wrong key: %v", err)
	}
}
