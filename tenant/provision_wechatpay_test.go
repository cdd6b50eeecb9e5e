package tenant_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// A new tenant gets test WeChat Pay credentials: the sandbox's merchant
// derived for it, stored sealed, masked in answers, and passing the same
// checks as a set a brand saves.
func TestProvisionSandboxWeChatPay(t *testing.T) {
	e := testenv.New(t)
	e.StartWorker(t)
	tn := create(t, e, "pay-brand", "Pay Brand")
	c := &credClient{e: e, slug: "pay-brand", auth: e.Member(t, tn.ID, "owner@pay-brand.test", tenant.RoleOwner)}
	testenv.Eventually(t, 30*time.Second, "the sandbox WeChat Pay merchant to be provisioned", func() bool {
		return c.overview(t).Credentials["test"]["wechatpay"].Configured
	})
	set := c.overview(t).Credentials["test"]["wechatpay"]

	// What the sandbox derives for this tenant, computed on a separate
	// sandbox instance with the same seed.
	sb, err := sandbox.New(sandbox.Options{Seed: e.Cfg.SandboxSeed})
	if err != nil {
		t.Fatal(err)
	}
	want, err := sb.PayMerchant("tenant:"+strconv.FormatInt(tn.ID, 10), sandbox.PayModeDirect)
	if err != nil {
		t.Fatal(err)
	}
	if set.Public["mode"] != "direct" || set.Public["mch_id"] != want.MchID || set.Public["cert_serial"] != want.CertSerial ||
		set.Public["public_key_id"] != want.PublicKeyID || set.Public["merchant_cert_pem"] != want.MerchantCertPEM {
		t.Errorf("public fields = %v, want the sandbox merchant %v", set.Public, want)
	}
	if h := set.Secrets["apiv3_key"]; !h.Set || h.Last4 != want.APIv3Key[28:] {
		t.Errorf("apiv3_key hint = %+v", h)
	}
	if h := set.Secrets["private_key_pem"]; !h.Set || h.Last4 != "" {
		t.Errorf("private_key_pem hint = %+v", h)
	}
	for _, r := range c.bodies {
		if containsAny(r, want.APIv3Key, want.PrivateKeyPEM[40:100]) {
			t.Fatalf("a response shows a secret: %s", r)
		}
	}
	// The tenant stays in test mode, and the stored set still passes the
	// format checks once decrypted by the worker.
	if m := shopMode(t, e, "pay-brand"); m != "test" {
		t.Errorf("mode = %s", m)
	}
	if r := c.do(t, "POST", "/test/wechatpay/verify", nil); r.Status != 202 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 20*time.Second, "the verification", func() bool {
		v := c.overview(t).Credentials["test"]["wechatpay"].Verification
		return v != nil && v.Status != "pending"
	})
	if v := c.overview(t).Credentials["test"]["wechatpay"].Verification; v.Status != tenant.VerifyFormatChecked {
		t.Errorf("verification = %+v", v)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if x != "" && len(s) >= len(x) {
			for i := 0; i+len(x) <= len(s); i++ {
				if s[i:i+len(x)] == x {
					return true
				}
			}
		}
	}
	return false
}
