package sandbox

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The v2 customs API refuses what WeChat Pay refuses before looking at the
// order: a bad MD5 sign, an unknown merchant, a Global merchant (v3 only),
// a body that is not the flat XML; and its state moves on with time.
func TestPayCustomsV2Refusals(t *testing.T) {
	e := newEnv(t)
	direct, _ := e.srv.PayMerchant("k", PayModeDirect)
	global, _ := e.srv.PayMerchant("g", PayModeGlobal)
	key := e.srv.pay.keysOf(e.srv.seed, direct.MchID).apiV3Key
	post := func(p map[string]string, key string) string {
		if key != "" {
			p["sign"] = md5Sign(p, key)
		}
		var b strings.Builder
		b.WriteString("<xml>")
		for k, v := range p {
			b.WriteString("<" + k + ">" + v + "</" + k + ">")
		}
		b.WriteString("</xml>")
		resp, err := http.Post(e.ts.URL+"/cgi-bin/mch/customs/customdeclareorder", "text/xml", strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	order := func(mch string) map[string]string {
		return map[string]string{"appid": "wx0123456789abcdef", "mch_id": mch, "out_trade_no": "ORDER0001", "transaction_id": "4200000001",
			"customs": "HANGZHOU_ZS", "mch_customs_no": "SB1"}
	}
	for name, c := range map[string]struct {
		body string
		want string
	}{
		"bad sign":        {post(order(direct.MchID), "another key of 32 characters....."), "签名错误"},
		"no sign":         {post(order(direct.MchID), ""), "签名错误"},
		"unknown mch":     {post(order("1900000000"), key), "mch_id"},
		"global merchant": {post(order(global.MchID), e.srv.pay.keysOf(e.srv.seed, global.MchID).apiV3Key), "/v3/global/customs"},
	} {
		if !strings.Contains(c.body, "<return_code><![CDATA[FAIL]]></return_code>") || !strings.Contains(c.body, c.want) {
			t.Errorf("%s: %s", name, c.body)
		}
	}
	// Signed right, an unknown payment: result_code FAIL, signed.
	body := post(order(direct.MchID), key)
	if !strings.Contains(body, "<result_code><![CDATA[FAIL]]></result_code>") || !strings.Contains(body, "ORDERNOTEXIST") || !strings.Contains(body, "<sign>") {
		t.Errorf("unknown payment: %s", body)
	}
	resp, _ := http.Post(e.ts.URL+"/cgi-bin/mch/customs/customdeclareorder", "text/xml", strings.NewReader("<xml><a><b>1</b></a></xml>"))
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "FAIL") {
		t.Errorf("nested XML: %s", raw)
	}

	// States over time: UNDECLARED, SUBMITTED, PROCESSING, then the outcome.
	r := &customsRec{since: start, step: time.Minute}
	for i, want := range []string{"UNDECLARED", "SUBMITTED", "PROCESSING", "SUCCESS", "SUCCESS"} {
		if st, at := r.state(start.Add(time.Duration(i)*time.Minute + time.Second)); st != want || at.After(start.Add(time.Duration(i)*time.Minute+time.Second)) {
			t.Errorf("after %d steps: %s at %s", i, st, at)
		}
	}
	r.fail = "海关接口异常"
	if st, _ := r.state(start.Add(time.Hour)); st != "FAIL" {
		t.Errorf("failing run: %s", st)
	}
}

func TestPayCustomsControlErrors(t *testing.T) {
	e := newEnv(t)
	m, _ := e.srv.PayMerchant("k", PayModeDirect)
	for name, c := range map[string]struct{ path, body, msg string }{
		"mchid":      {"/sandbox/v1/pay/customs-faults", `{"mchid":"1900000000"}`, `"mchid"`},
		"step":       {"/sandbox/v1/pay/customs-faults", `{"mchid":"` + m.MchID + `","step_ms":-1}`, `"step_ms"`},
		"cert":       {"/sandbox/v1/pay/customs-faults", `{"mchid":"` + m.MchID + `","out_trade_no":"ORDER0001","cert_check_result":"MAYBE"}`, `"out_trade_no"`},
		"fault only": {"/sandbox/v1/pay/customs-faults", `{"mchid":"` + m.MchID + `","fail":"x"}`, `"out_trade_no"`},
		"count":      {"/sandbox/v1/pay/customs-declarations", `{"mchid":"` + m.MchID + `"}`, `"out_trade_no"`},
		"unknown":    {"/sandbox/v1/pay/customs-declarations", `{"mchid":"` + m.MchID + `","out_trade_no":"ORDER0001","x":1}`, `"x"`},
	} {
		r := e.controlRaw(http.MethodPost, c.path, "application/json", []byte(c.body))
		if r.Status != 400 || !strings.Contains(r.errorMessage(), c.msg) {
			t.Errorf("%s: %d %v", name, r.Status, r.Body)
		}
	}
}
