package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func TestReconcileCLI(t *testing.T) {
	e := testenv.New(t)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "recon-cli", Name: "Recon CLI"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := scope.WithTenant(context.Background(), tn.ID)
	if err := e.App.Tenants.Provision(ctx, "test-provision-recon-cli"); err != nil {
		t.Fatal(err)
	}
	_, c, _, _, err := e.App.Tenants.WeChatPayCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	b, _ := json.Marshal(map[string]any{"mch_id": c.MchID, "date": day, "faults": []map[string]any{{"kind": "payment", "out_trade_no": "NOBODY0001", "amount": 4200}}})
	resp, err := http.Post(e.Sandbox.URL+"/sandbox/v1/pay/bill-faults", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bill faults: %v %v", resp, err)
	}
	resp.Body.Close()
	out, code := run(t, envOf(e), "", "reconcile", "--tenant", "recon-cli", "--date", day)
	if code != 0 || !strings.Contains(out, day+": discrepancies (run 1)") || !strings.Contains(out, "payments 42.00") ||
		!strings.Contains(out, "missing_with_us") || !strings.Contains(out, "NOBODY0001") {
		t.Fatalf("reconcile: %d\n%s", code, out)
	}
	out, code = run(t, envOf(e), "", "reconcile", "--tenant", "recon-cli", "--date", day)
	if code != 0 || !strings.Contains(out, "(run 2)") || strings.Count(out, "NOBODY0001") != 1 {
		t.Errorf("second run: %d\n%s", code, out)
	}
	if out, code := run(t, envOf(e), "", "reconcile", "--tenant", "recon-cli", "--date", "2026-02-30"); code == 0 || !strings.Contains(out, "YYYY-MM-DD") {
		t.Errorf("bad date: %d %s", code, out)
	}
	if _, code := run(t, envOf(e), "", "reconcile", "--tenant", "no-such-shop", "--date", day); code == 0 {
		t.Error("unknown shop accepted")
	}
}
