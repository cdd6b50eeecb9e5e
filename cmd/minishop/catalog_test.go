package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

func TestCatalogImportExportCLI(t *testing.T) {
	e := testenv.New(t)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "nordic-skin", Name: "Nordic Skin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := scope.WithTenant(context.Background(), tn.ID)
	if _, err := e.App.Shop.CreateWarehouse(ctx, shop.WarehouseInput{Code: "BONDED-HZ", Name: "Hangzhou", Kind: "bonded"}); err != nil {
		t.Fatal(err)
	}
	parent, err := e.App.Shop.SaveCategory(ctx, 0, shop.CategoryInput{Name: shop.Text{"en": "Skincare"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Shop.SaveCategory(ctx, 0, shop.CategoryInput{Name: shop.Text{"en": "Serums"}, ParentID: &parent.ID}); err != nil {
		t.Fatal(err)
	}
	env := append(envOf(e), "MINISHOP_MEDIA_DIR="+t.TempDir())
	dir := t.TempDir()
	good, err := os.ReadFile("../../shop/testdata/import/good.csv")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "catalog.csv")
	os.WriteFile(file, good, 0o600)

	out, code := run(t, env, "", "catalog", "import", "--tenant", "nordic-skin", file)
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "products 2 created") || !strings.Contains(out, "5 created") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	xlsx := filepath.Join(dir, "export.xlsx")
	if out, code := run(t, env, "", "catalog", "export", "--tenant", "nordic-skin", "-o", xlsx); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "catalog", "import", "-q", "--tenant", "nordic-skin", xlsx)
	if code != 0 || !strings.Contains(out, "2 unchanged") || !strings.Contains(out, "0 stock adjustments") {
		t.Fatalf("re-import of the export: exit %d\n%s", code, out)
	}
	csvOut, code := run(t, env, "", "catalog", "export", "--tenant", "nordic-skin")
	if code != 0 || !strings.Contains(csvOut, "NS-RED-30") || !strings.Contains(csvOut, "299.90") {
		t.Fatalf("export to stdout: exit %d\n%s", code, csvOut)
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Replace(string(good), "299.90,349.00", "2,99.90,349.00", 1)), 0o600)
	out, code = run(t, env, "", "catalog", "import", "--tenant", "nordic-skin", "-q", bad)
	if code != 1 || !strings.Contains(out, "nothing was written") || !strings.Contains(out, "line 2") {
		t.Fatalf("bad file: exit %d\n%s", code, out)
	}
	if out, code := run(t, env, "", "catalog", "export", "--tenant", "no-such-shop"); code == 0 {
		t.Fatalf("unknown tenant: exit 0\n%s", out)
	}
}
