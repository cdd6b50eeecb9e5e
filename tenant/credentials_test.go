package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/vault"
	"github.com/minishop/minishop/tenant"
)

// credClient sends admin requests as one member and keeps every response
// body, so a test can look for secrets in all of them at the end.
type credClient struct {
	e      *testenv.Env
	slug   string
	auth   []string
	mu     sync.Mutex
	bodies []string
}

func (c *credClient) do(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	r := c.e.Do(t, method, "", "/api/admin/v1/tenants/"+c.slug+"/credentials"+path, body, c.auth...)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(r.Body))
	c.mu.Unlock()
	return r
}

func (c *credClient) overview(t *testing.T) *tenant.CredentialsOverview {
	t.Helper()
	r := c.do(t, "GET", "", nil)
	if r.Status != 200 {
		t.Fatalf("GET credentials: %d %s", r.Status, r.Body)
	}
	var o tenant.CredentialsOverview
	r.JSON(t, &o)
	return &o
}

func (c *credClient) save(t *testing.T, mode, kind string, body any) *tenant.SavedCredentials {
	t.Helper()
	r := c.do(t, "PUT", "/"+mode+"/"+kind, body)
	if r.Status != 200 {
		t.Fatalf("PUT %s/%s: %d %s", mode, kind, r.Status, r.Body)
	}
	var s tenant.SavedCredentials
	r.JSON(t, &s)
	return &s
}

// refused checks a 4xx answer with its code and, for validation errors, the
// field named in details.
func refused(t *testing.T, r *testenv.Response, status int, code, field string) {
	t.Helper()
	var b struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Details map[string]string `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	if r.Status != status || b.Error.Code != code || b.Error.Details["field"] != field || b.Error.Message == "" {
		t.Fatalf("want %d %s on field %q, got %d %s", status, code, field, r.Status, r.Body)
	}
}

func shopMode(t *testing.T, e *testenv.Env, slug string) string {
	t.Helper()
	r := e.Do(t, "GET", slug+".shop.test", "/api/v1/shop", nil)
	var s tenant.Shop
	r.JSON(t, &s)
	return s.Mode
}

func waitProvisioned(t *testing.T, c *credClient) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "the sandbox Mini Program to be provisioned", func() bool {
		return c.overview(t).Credentials["test"]["miniprogram"].Configured
	})
}

func tenantCtx(tid int64) context.Context {
	return scope.WithActor(scope.WithTenant(context.Background(), tid), scope.Actor{Kind: "user", ID: "test"})
}

// Saving, editing, verifying and deleting credentials through the admin API;
// the tenant's mode follows the live Mini Program and WeChat Pay sets; and no
// secret shows up in any response, log line, audit entry or outbox row.
func TestCredentialsThroughTheAPI(t *testing.T) {
	e := testenv.New(t)
	// httpx logs internal errors through the default logger: capture it too.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	e.StartWorker(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	c := &credClient{e: e, slug: "nordic-skin", auth: e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)}
	f := tenant.PayFixtureFor(t)

	appID, appSecret := sandbox.AppFor(e.Cfg.SandboxSeed, "live app of nordic-skin")
	apiv3 := "Apiv3NordicSkinKey0123456789wxyz"
	agentKey := "agent-api-key-nordic-7f3e9a"
	kdKey, kdSalt := "Kd100KeyNordic9f8e7d", "kd100-salt-nordic"
	rejected := "Rejected-apiv3-secret-value-0001" // refused input is a secret too
	secrets := []string{appSecret, apiv3, agentKey, kdKey, kdSalt, rejected, strings.TrimSpace(f.KeyPKCS8)}
	for _, line := range strings.Split(f.KeyPKCS8, "\n") {
		if len(line) == 64 { // every line of the key's body
			secrets = append(secrets, line)
		}
	}

	waitProvisioned(t, c)
	o := c.overview(t)
	if o.Mode != "test" {
		t.Fatalf("a new shop is in test mode: %+v", o)
	}
	sb := o.Credentials["test"]["miniprogram"]
	if sb.ManagedBy != "sandbox" || !sb.Secrets["secret"].Set || len(sb.Secrets["secret"].Last4) != 4 || sb.Secrets["secret"].SetAt == nil ||
		!strings.HasPrefix(fmt.Sprint(sb.Public["appid"]), "wx") {
		t.Fatalf("sandbox Mini Program: %+v", sb)
	}
	for _, mode := range []string{"test", "live"} {
		for _, kind := range tenant.CredentialKinds {
			if o.Credentials[mode][kind] == nil {
				t.Fatalf("overview lacks %s/%s", mode, kind)
			}
		}
	}
	if lw := o.Credentials["live"]["wechatpay"]; lw.Configured || lw.Secrets["apiv3_key"].Set || len(lw.Secrets) != 3 {
		t.Fatalf("unset live WeChat Pay: %+v", lw)
	}

	refused(t, c.do(t, "PUT", "/test/miniprogram", map[string]string{"appid": appID, "secret": appSecret}), 422, "sandbox_managed", "")
	refused(t, c.do(t, "PUT", "/live/paypal", map[string]string{}), 404, "route_not_found", "")
	refused(t, c.do(t, "PUT", "/live/miniprogram", map[string]string{"appid": appID, "secret": appSecret, "token": "x"}), 400, "unknown_field", "token")
	refused(t, c.do(t, "PUT", "/live/miniprogram", map[string]string{"appid": "wx-not-an-appid", "secret": appSecret}), 400, "invalid_credential_field", "appid")

	s := c.save(t, "live", "miniprogram", map[string]string{"appid": appID, "secret": appSecret})
	if s.TenantMode != "test" || strings.Join(s.FieldsChanged, ",") != "appid,secret" || s.Credential.Public["appid"] != appID ||
		s.Credential.Secrets["secret"].Last4 != appSecret[28:] {
		t.Fatalf("live Mini Program alone: %+v", s)
	}

	pay := f.WeChatPaySet(apiv3)
	bad := f.WeChatPaySet(rejected[:31])
	refused(t, c.do(t, "PUT", "/live/wechatpay", bad), 400, "invalid_credential_field", "apiv3_key")
	bad = f.WeChatPaySet(apiv3)
	bad["private_key_pem"] = f.OtherKeyPKCS8
	refused(t, c.do(t, "PUT", "/live/wechatpay", bad), 400, "invalid_credential_field", "private_key_pem")
	bad = f.WeChatPaySet(apiv3)
	bad["cert_serial"] = f.PlatformSerial
	refused(t, c.do(t, "PUT", "/live/wechatpay", bad), 400, "invalid_credential_field", "cert_serial")
	bad = f.WeChatPaySet(apiv3)
	bad["apiv2_key"] = "too-short"
	refused(t, c.do(t, "PUT", "/live/wechatpay", bad), 400, "invalid_credential_field", "apiv2_key")
	if m := shopMode(t, e, "nordic-skin"); m != "test" {
		t.Fatalf("refused saves switched the shop to %s", m)
	}

	s = c.save(t, "live", "wechatpay", pay)
	if s.TenantMode != "live" || s.Credential.Public["cert_serial"] != f.Serial || !s.Credential.Secrets["private_key_pem"].Set ||
		s.Credential.Secrets["private_key_pem"].Last4 != "" || s.Credential.Secrets["apiv3_key"].Last4 != "wxyz" {
		t.Fatalf("live WeChat Pay: %+v", s)
	}
	if m := shopMode(t, e, "nordic-skin"); m != "live" {
		t.Fatalf("the storefront still says %s after live credentials were saved", m)
	}
	if s.Credential.Secrets["apiv2_key"].Set {
		t.Fatalf("an API v2 key nobody gave: %+v", s.Credential.Secrets)
	}
	v2 := strings.Repeat("v2", 14) + "9876"
	if s2 := c.save(t, "live", "wechatpay", map[string]string{"apiv2_key": v2}); !s2.Credential.Secrets["apiv2_key"].Set ||
		s2.Credential.Secrets["apiv2_key"].Last4 != "9876" || strings.Join(s2.FieldsChanged, ",") != "apiv2_key" {
		t.Fatalf("API v2 key: %+v", s2)
	}
	var tt tenant.Tenant
	c.e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, c.auth...).JSON(t, &tt)
	if tt.Mode != "live" {
		t.Fatalf("tenant: %+v", tt)
	}
	mp, err := e.App.Tenants.MiniProgramCredentials(scope.WithTenant(context.Background(), tn.ID))
	if err != nil || mp.Mode != "live" || mp.AppID != appID || mp.Secret != appSecret {
		t.Fatalf("the live Mini Program is what the shop now uses: %v %v", mp, err)
	}
	if strings.Contains(fmt.Sprint(mp), appSecret) || strings.Contains(fmt.Sprintf("%+v", *mp), appSecret) {
		t.Fatal("printing MiniProgram shows the secret")
	}

	// Editing public fields keeps the secrets as they were.
	setAt := s.Credential.Secrets["apiv3_key"].SetAt
	s = c.save(t, "live", "wechatpay", map[string]string{"mch_id": "1900000002"})
	if strings.Join(s.FieldsChanged, ",") != "mch_id" || s.Credential.Public["mch_id"] != "1900000002" ||
		!s.Credential.Secrets["apiv3_key"].SetAt.Equal(*setAt) || !s.Credential.Secrets["private_key_pem"].Set {
		t.Fatalf("editing mch_id only: %+v", s)
	}
	s = c.save(t, "live", "wechatpay", map[string]string{"mch_id": "1900000002"})
	if len(s.FieldsChanged) != 0 {
		t.Fatalf("saving the same value changed %v", s.FieldsChanged)
	}
	// Clearing what the set cannot do without is refused, and nothing changes.
	refused(t, c.do(t, "PUT", "/live/wechatpay", map[string]string{"public_key_id": "", "public_key_pem": ""}), 400, "invalid_credential_field", "public_key_id")
	refused(t, c.do(t, "PUT", "/live/wechatpay", map[string]string{"apiv3_key": ""}), 400, "invalid_credential_field", "apiv3_key")
	if lw := c.overview(t).Credentials["live"]["wechatpay"]; lw.Public["public_key_id"] == nil || !lw.Secrets["apiv3_key"].Set {
		t.Fatalf("a refused save changed the set: %+v", lw)
	}

	customs := map[string]string{"ebc_code": "3301960ABC", "ebc_name": "Nordic Skin AB", "ebp_code": "3301960XYZ", "ebp_name": "Minishop",
		"customs_office": "HANGZHOU_ZS", "customs_mch_no": "3301960ABC", "trade_mode": "1210", "agent_api_key": agentKey}
	c.save(t, "test", "customs", customs)
	c.save(t, "live", "customs", customs)
	s = c.save(t, "live", "customs", map[string]string{"agent_api_key": ""})
	if strings.Join(s.FieldsChanged, ",") != "agent_api_key" || s.Credential.Secrets["agent_api_key"].Set {
		t.Fatalf("clearing the optional agent key: %+v", s)
	}
	refused(t, c.do(t, "PUT", "/live/customs", map[string]string{"trade_mode": "0110"}), 400, "invalid_credential_field", "trade_mode")
	c.save(t, "live", "logistics", map[string]string{"kuaidi100_customer": "E1D7C1E8A13B31F2D0F5E7C2B2A8D8B4", "kuaidi100_key": kdKey, "kuaidi100_salt": kdSalt})

	// Verification through the worker: the test Mini Program against the
	// sandbox; the other kinds get an honest format check.
	for _, p := range []string{"/test/miniprogram/verify", "/live/wechatpay/verify", "/live/logistics/verify"} {
		r := c.do(t, "POST", p, nil)
		var v struct{ Verification tenant.Verification }
		r.JSON(t, &v)
		if r.Status != 202 || !v.Verification.Pending {
			t.Fatalf("POST %s: %d %s", p, r.Status, r.Body)
		}
	}
	refused(t, c.do(t, "POST", "/test/logistics/verify", nil), 404, "credentials_not_found", "")
	testenv.Eventually(t, 20*time.Second, "the verifications to finish", func() bool {
		o := c.overview(t)
		for _, x := range []*tenant.CredentialSet{o.Credentials["test"]["miniprogram"], o.Credentials["live"]["wechatpay"], o.Credentials["live"]["logistics"]} {
			if x.Verification == nil || x.Verification.Pending {
				return false
			}
		}
		return true
	})
	o = c.overview(t)
	if v := o.Credentials["test"]["miniprogram"].Verification; v.Status != "ok" || !strings.Contains(v.Message, "sandbox issued an access token") || v.CheckedAt == nil {
		t.Fatalf("test Mini Program verification: %+v", v)
	}
	for _, k := range []string{"wechatpay", "logistics"} {
		if v := o.Credentials["live"][k].Verification; v.Status != "format_checked" || v.Message != "format checked; live check not available yet" {
			t.Fatalf("%s verification: %+v", k, v)
		}
	}
	if o.Credentials["live"]["customs"].Verification != nil {
		t.Fatal("an unverified set shows a verification")
	}

	// Deleting: live only; the shop goes back to test mode.
	refused(t, c.do(t, "DELETE", "/test/customs", nil), 422, "test_credentials_kept", "")
	r := c.do(t, "DELETE", "/live/wechatpay", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"tenant_mode":"test"`) {
		t.Fatalf("DELETE live wechatpay: %d %s", r.Status, r.Body)
	}
	refused(t, c.do(t, "DELETE", "/live/wechatpay", nil), 404, "credentials_not_found", "")
	if m := shopMode(t, e, "nordic-skin"); m != "test" {
		t.Fatalf("the storefront still says %s after live WeChat Pay was removed", m)
	}
	if mp, err := e.App.Tenants.MiniProgramCredentials(scope.WithTenant(context.Background(), tn.ID)); err != nil || mp.Mode != "test" || mp.AppID == appID {
		t.Fatalf("back in test mode the sandbox app is used: %v %v", mp, err)
	}
	if o := c.overview(t); o.Mode != "test" || !o.Credentials["live"]["miniprogram"].Configured || o.Credentials["live"]["wechatpay"].Configured {
		t.Fatalf("after delete: %+v", o)
	}

	// The audit log names changed fields, never values.
	var entries []tenant.AuditEntry
	err = db.InTenant(scope.WithTenant(context.Background(), tn.ID), e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT action, object, data FROM audit_log ORDER BY id`).Scan(&entries).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	sawFields := false
	for _, a := range entries {
		actions = append(actions, a.Action)
		if a.Action == "credentials.saved" && a.Object == "credentials:live/wechatpay" && strings.Contains(string(a.Data), `"apiv3_key"`) {
			sawFields = true
		}
	}
	for _, want := range []string{"credentials.saved", "tenant.mode_changed", "credentials.verify_requested", "credentials.verified", "credentials.deleted"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s audit entry in %v", want, actions)
		}
	}
	if !sawFields {
		t.Error("the audit entry of the WeChat Pay save does not name the changed fields")
	}

	// Finally: no secret anywhere it could leak.
	var dump []string
	err = db.InTenant(scope.WithTenant(context.Background(), tn.ID), e.App.DB, func(tx *gorm.DB) error {
		var rows []string
		for _, q := range []string{`SELECT x::text FROM audit_log x`, `SELECT public::text || hints::text || verify_message FROM credentials`} {
			if err := tx.Raw(q).Scan(&rows).Error; err != nil {
				return err
			}
			dump = append(dump, rows...)
		}
		if err := tx.Raw(`SELECT x::text FROM outbox x`).Scan(&rows).Error; err != nil {
			return err
		}
		dump = append(dump, rows...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"logs": e.Logs.String(), "database": strings.Join(dump, "\n"), "responses": strings.Join(c.bodies, "\n")}
	if len(places["logs"]) < 1000 || len(entries) < 10 || len(c.bodies) < 30 {
		t.Fatalf("too little captured to prove anything: %d bytes of logs, %d audit entries, %d responses", len(places["logs"]), len(entries), len(c.bodies))
	}
	for where, text := range places {
		for i, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("secret #%d appears in the %s", i, where)
			}
		}
	}
}

// Two saves at once, of the live Mini Program and of live WeChat Pay, must
// not both miss the other: the shop ends up live.
func TestConcurrentLiveSavesSwitchTheMode(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "dutch-cocoa", "Dutch Cocoa")
	f := tenant.PayFixtureFor(t)
	appID, secret := sandbox.AppFor(e.Cfg.SandboxSeed, "dutch")
	pay := f.WeChatPaySet("Apiv3DutchCocoaKey0123456789abcd")
	for round := range 5 {
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := e.App.Tenants.SaveCredentials(tenantCtx(tn.ID), "live", "miniprogram", &tenant.MiniProgramInput{AppID: &appID, Secret: &secret})
			errc <- err
		}()
		go func() {
			defer wg.Done()
			in := &tenant.WeChatPayInput{}
			b, _ := json.Marshal(pay)
			_ = json.Unmarshal(b, in)
			_, err := e.App.Tenants.SaveCredentials(tenantCtx(tn.ID), "live", "wechatpay", in)
			errc <- err
		}()
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		if m := shopMode(t, e, "dutch-cocoa"); m != "live" {
			t.Fatalf("round %d: mode %s after both live sets were saved at once", round, m)
		}
		for _, kind := range []string{"miniprogram", "wechatpay"} {
			if _, err := e.App.Tenants.DeleteCredentials(tenantCtx(tn.ID), "live", kind); err != nil {
				t.Fatal(err)
			}
		}
		if m := shopMode(t, e, "dutch-cocoa"); m != "test" {
			t.Fatalf("round %d: mode %s after both were deleted", round, m)
		}
	}
}

// lastVerifyTask is the task id of the latest verification request.
func lastVerifyTask(t *testing.T, e *testenv.Env) string {
	t.Helper()
	var id int64
	if err := e.App.DB.Raw(`SELECT max(id) FROM outbox WHERE kind = ?`, tenant.TaskVerifyCredentials).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no verification task: %v", err)
	}
	return outbox.TaskID(id)
}

// Live Mini Program credentials are checked against the live WeChat API base
// (here the sandbox standing in for it); the task runs once however often it
// is delivered; a result is not recorded onto values changed meanwhile.
func TestVerifyLiveMiniProgram(t *testing.T) {
	e := testenv.New(t) // no worker: the test runs the task itself
	tn := create(t, e, "alpine-tea", "Alpine Tea")
	c := &credClient{e: e, slug: "alpine-tea", auth: e.Member(t, tn.ID, "owner@alpine.test", tenant.RoleOwner)}
	verify := e.App.Tenants.VerifyCredentialsAt(e.Sandbox.URL)
	ctx := scope.WithTenant(context.Background(), tn.ID)
	appID, secret := sandbox.AppFor(e.Cfg.SandboxSeed, "alpine")
	c.save(t, "live", "miniprogram", map[string]string{"appid": appID, "secret": secret})

	c.do(t, "POST", "/live/miniprogram/verify", nil)
	task := lastVerifyTask(t, e)
	if v := c.overview(t).Credentials["live"]["miniprogram"].Verification; v == nil || v.Status != "pending" || !v.Pending {
		t.Fatalf("before the task runs: %+v", v)
	}
	for range 2 { // a redelivery does nothing
		if err := verify(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	v := c.overview(t).Credentials["live"]["miniprogram"].Verification
	if v == nil || v.Status != "ok" || v.Pending || !strings.Contains(v.Message, appID) {
		t.Fatalf("after the task: %+v", v)
	}
	var n int64
	_ = db.InTenant(ctx, e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM audit_log WHERE action = 'credentials.verified'`).Scan(&n).Error
	})
	if n != 1 {
		t.Fatalf("%d verification results recorded; want 1", n)
	}

	wrong := strings.Repeat("0", 32)
	s := c.save(t, "live", "miniprogram", map[string]string{"secret": wrong})
	if s.Credential.Verification != nil {
		t.Fatalf("a save must clear the verification of the old values: %+v", s.Credential.Verification)
	}
	c.do(t, "POST", "/live/miniprogram/verify", nil)
	if err := verify(ctx, lastVerifyTask(t, e)); err != nil {
		t.Fatal(err)
	}
	v = c.overview(t).Credentials["live"]["miniprogram"].Verification
	if v.Status != "failed" || !strings.Contains(v.Message, "40125") || strings.Contains(v.Message, wrong) {
		t.Fatalf("wrong secret: %+v", v)
	}

	// Changed while the check was under way: the result would be about
	// values that are gone, so none is recorded.
	c.do(t, "POST", "/live/miniprogram/verify", nil)
	task = lastVerifyTask(t, e)
	e.SandboxDelay.Store(int64(time.Second))
	done := make(chan error)
	go func() { done <- verify(ctx, task) }()
	time.Sleep(300 * time.Millisecond)
	c.save(t, "live", "miniprogram", map[string]string{"secret": secret})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.SandboxDelay.Store(0)
	if v := c.overview(t).Credentials["live"]["miniprogram"].Verification; v != nil {
		t.Fatalf("a stale result was recorded: %+v", v)
	}
	// Checked after the change, the new values are what is verified.
	c.do(t, "POST", "/live/miniprogram/verify", nil)
	if err := verify(ctx, lastVerifyTask(t, e)); err != nil {
		t.Fatal(err)
	}
	if v := c.overview(t).Credentials["live"]["miniprogram"].Verification; v == nil || v.Status != "ok" {
		t.Fatalf("verifying the corrected secret: %+v", v)
	}
}

// A ciphertext copied into another tenant's row does not open, through the
// service and through the API, and says nothing about its content.
func TestCiphertextFromAnotherTenant(t *testing.T) {
	e := testenv.New(t)
	a := create(t, e, "shop-one", "Shop One")
	b := create(t, e, "shop-two", "Shop Two")
	for i, tn := range []*tenant.Tenant{a, b} {
		if err := e.App.Tenants.Provision(tenantCtx(tn.ID), fmt.Sprintf("test-provision-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ca := &credClient{e: e, slug: "shop-one", auth: e.Member(t, a.ID, "owner@one.test", tenant.RoleOwner)}
	cb := &credClient{e: e, slug: "shop-two", auth: e.Member(t, b.ID, "owner@two.test", tenant.RoleOwner)}
	keyA := "Kd100KeyOfShopOne123"
	ca.save(t, "live", "logistics", map[string]string{"kuaidi100_customer": "CUSTOMERONE", "kuaidi100_key": keyA, "kuaidi100_salt": "salt-of-shop-one"})
	cb.save(t, "live", "logistics", map[string]string{"kuaidi100_customer": "CUSTOMERTWO", "kuaidi100_key": "Kd100KeyOfShopTwo456", "kuaidi100_salt": "salt-of-shop-two"})

	// Copy A's sealed columns into B's rows of the same mode and kind.
	for _, kind := range []string{"logistics", "miniprogram"} {
		mode := "live"
		if kind == "miniprogram" {
			mode = "test"
		}
		var row struct{ Sealed []byte }
		if err := db.InTenant(scope.WithTenant(context.Background(), a.ID), e.App.DB, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT sealed FROM credentials WHERE mode = ? AND kind = ?`, mode, kind).Scan(&row).Error
		}); err != nil || row.Sealed == nil {
			t.Fatal("reading A's row", err)
		}
		if err := db.InTenant(scope.WithTenant(context.Background(), b.ID), e.App.DB, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE credentials SET sealed = ? WHERE tenant_id = ? AND mode = ? AND kind = ?`, db.Bytes(row.Sealed), b.ID, mode, kind).Error
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.App.Tenants.MiniProgramCredentials(scope.WithTenant(context.Background(), b.ID)); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("B opened A's ciphertext: %v", err)
	}
	if mp, err := e.App.Tenants.MiniProgramCredentials(scope.WithTenant(context.Background(), a.ID)); err != nil || mp.Secret == "" {
		t.Fatalf("A's own: %v", err)
	}
	// An edit that must open the stored secrets fails, generically.
	r := cb.do(t, "PUT", "/live/logistics", map[string]string{"kuaidi100_customer": "CUSTOMERTWO2"})
	if r.Status != 500 || r.ErrorCode() != "internal" || strings.Contains(string(r.Body), keyA) {
		t.Fatalf("editing B's tampered set: %d %s", r.Status, r.Body)
	}
	cb.do(t, "POST", "/live/logistics/verify", nil)
	if err := e.App.Tenants.VerifyCredentials(scope.WithTenant(context.Background(), b.ID), lastVerifyTask(t, e)); err != nil {
		t.Fatal(err)
	}
	v := cb.overview(t).Credentials["live"]["logistics"].Verification
	if v == nil || v.Status != "failed" || !strings.Contains(v.Message, "could not be decrypted") {
		t.Fatalf("verifying B's tampered set: %+v", v)
	}
	if strings.Contains(e.Logs.String(), keyA) {
		t.Fatal("A's secret appears in the logs")
	}
}
