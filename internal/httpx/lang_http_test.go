package httpx_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

var hanRe = regexp.MustCompile(`\p{Han}`)

// Admin errors staff meet most come in Chinese to a console in Chinese and
// in English to everyone else; the responses stay valid for the OpenAPI
// document (testenv checks each), and Content-Language says which language
// the message is in.
func TestAdminErrorsInChinese(t *testing.T) {
	e := testenv.New(t)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "zh-errors", Name: "ZH"})
	if err != nil {
		t.Fatal(err)
	}
	owner := e.Member(t, tn.ID, "owner@zh-errors.test", tenant.RoleOwner)
	base := "/api/admin/v1/tenants/zh-errors"
	r := e.Do(t, "POST", "", base+"/products", map[string]any{"content": map[string]any{"en": map[string]string{"title": "Serum"}}}, owner...)
	if r.Status != 201 {
		t.Fatalf("create product: %d %s", r.Status, r.Body)
	}
	var p struct{ ID int64 }
	r.JSON(t, &p)

	zhCN := []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}
	enUS := []string{"Accept-Language", "en-US,en;q=0.9,zh-CN;q=0.5"}
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, en, zh       string
	}{
		{"publish without the checklist", "POST", fmt.Sprintf("/products/%d/publish", p.ID), nil, 422, "not_publishable",
			"the product cannot be sold cross-border yet", "商品还不能跨境销售：缺少中文标题"},
		{"credentials field", "PUT", "/credentials/live/customs", map[string]any{"ebp_code": "x", "ebp_name": "n", "ebc_code": "1234567890",
			"ebc_name": "n", "customs_office": "2900", "trade_mode": "1210"}, 400, "invalid_credential_field",
			"customs_mch_no: is required", "customs_mch_no：必填"},
		{"invitation role", "POST", "/invitations", map[string]string{"email": "a@b.test", "role": "boss"}, 400, "invalid_role",
			"role must be one of", "角色须为以下之一"},
		{"binding", "POST", "/invitations", map[string]string{"email": "a@b.test"}, 400, "invalid_field",
			`field "role" is required`, `字段 "role" 为必填`},
		{"no such order", "GET", "/orders/999999", nil, 404, "order_not_found", "no such order", "订单不存在"},
		{"refund amount", "POST", "/orders/999999/refunds", map[string]any{"amount_fen": -5}, 400, "invalid_field",
			`field "amount_fen" must be greater than 0`, `字段 "amount_fen" 须大于 0`},
	} {
		for _, lang := range [][]string{zhCN, enUS, nil} {
			r := e.Do(t, c.method, "", base+c.path, c.body, append(append([]string{}, owner...), lang...)...)
			var b struct{ Error struct{ Message string } }
			r.JSON(t, &b)
			msg := b.Error.Message
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Errorf("%s (%v): %d %s", c.name, lang, r.Status, r.Body)
				continue
			}
			wantZH := len(lang) > 0 && lang[1] == zhCN[1] && c.zh != ""
			switch cl := r.Header.Get("Content-Language"); {
			case wantZH && (!strings.Contains(msg, c.zh) || cl != "zh-CN"):
				t.Errorf("%s in Chinese: %q (Content-Language %q)", c.name, msg, cl)
			case !wantZH && (!strings.Contains(msg, c.en) || hanRe.MatchString(msg) || cl != "en"):
				t.Errorf("%s in English (%v): %q (Content-Language %q)", c.name, lang, msg, cl)
			}
		}
	}
	// The checklist items of a refused publish are translated too.
	r = e.Do(t, "POST", "", fmt.Sprintf("%s/products/%d/publish", base, p.ID), nil, append(owner, zhCN...)...)
	if !strings.Contains(string(r.Body), `"message":"缺少中文标题：小程序展示的是中文"`) || !strings.Contains(string(r.Body), `"field":"content.zh-CN.title"`) {
		t.Errorf("checklist in Chinese: %s", r.Body)
	}
}
