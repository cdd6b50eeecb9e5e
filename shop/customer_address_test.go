package shop_test

import (
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

func address(detail string) map[string]any {
	return map[string]any{
		"consignee": "张三", "phone": "13800138000",
		"province_code": "310000", "city_code": "310100", "district_code": "310115",
		"province": "上海市", "city": "上海市", "district": "浦东新区", "detail": detail,
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func (b *buyer) addresses(t *testing.T) []shop.Address {
	t.Helper()
	var out struct{ Addresses []shop.Address }
	r := b.do(t, "GET", "/api/v1/me/addresses", nil)
	r.JSON(t, &out)
	if r.Status != 200 || out.Addresses == nil {
		t.Fatalf("addresses: %d %s", r.Status, r.Body)
	}
	return out.Addresses
}

func defaults(as []shop.Address) []int64 {
	var out []int64
	for _, a := range as {
		if a.IsDefault {
			out = append(out, a.ID)
		}
	}
	return out
}

func TestAddressValidation(t *testing.T) {
	e := testenv.New(t)
	alice := newMiniShop(t, e, "nordic-skin").provision(t).signIn(t, "alice")
	ok := address("世纪大道 100 号 8 楼")
	bad := []struct {
		body  map[string]any
		field string
	}{
		{with(ok, "consignee", ""), "consignee"},
		{with(ok, "consignee", strings.Repeat("张", 61)), "consignee"},
		{with(ok, "phone", "12345"), "phone"},
		{with(ok, "phone", "23800138000"), "phone"},
		{with(ok, "phone", "1380013800"), "phone"},
		{with(ok, "phone", "12345678"), "phone"}, // landline without area code
		{with(ok, "province_code", "990000"), "province_code"},
		{with(ok, "province_code", "310100"), "province_code"},
		{with(ok, "province_code", "31000"), "province_code"},
		{with(ok, "city_code", "320100"), "city_code"},
		{with(ok, "city_code", "310000"), "city_code"},
		{with(ok, "district_code", "310215"), "district_code"},
		{with(ok, "district_code", "3101150"), "district_code"},
		{with(ok, "province", ""), "province"},
		{with(ok, "district", nil), "district"},
		{with(ok, "detail", " "), "detail"},
		{with(ok, "detail", strings.Repeat("路", 201)), "detail"},
	}
	for _, tc := range bad {
		r := alice.do(t, "POST", "/api/v1/me/addresses", tc.body)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s=%v: %d %s", tc.field, tc.body[tc.field], r.Status, r.Body)
		}
	}
	if r := alice.do(t, "POST", "/api/v1/me/addresses", with(ok, "is_default", true)); r.Status != 400 || r.ErrorCode() != "unknown_field" {
		t.Errorf("unknown field: %d %s", r.Status, r.Body)
	}
	if n := len(alice.addresses(t)); n != 0 {
		t.Fatalf("refused addresses were stored: %d", n)
	}

	good := []map[string]any{
		ok,
		with(ok, "phone", "010-12345678"),
		with(ok, "phone", "+86 139 1234 5678"),
		with(with(with(ok, "province_code", "440000"), "city_code", "440300"), "district_code", "440305"),
		with(with(with(ok, "province_code", "810000"), "city_code", "810100"), "district_code", "810101"),
	}
	for _, body := range good {
		if r := alice.do(t, "POST", "/api/v1/me/addresses", body); r.Status != 201 {
			t.Errorf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	phones := map[string]bool{}
	as := alice.addresses(t)
	for _, a := range as {
		phones[a.Phone] = true
	}
	if len(as) != len(good) || !phones["010-12345678"] || !phones["13912345678"] || !as[0].IsDefault || as[0].Phone != "13800138000" {
		t.Fatalf("stored (the first is the default, phones normalised): %+v", as)
	}
}

func TestAddressesDefaultsAndOwnership(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	b := newMiniShop(t, e, "tokyo-tea").provision(t)
	alice, bob := a.signIn(t, "alice"), a.signIn(t, "bob")
	carol := b.signIn(t, "carol")

	var first, second shop.Address
	alice.do(t, "POST", "/api/v1/me/addresses", address("Home")).JSON(t, &first)
	alice.do(t, "POST", "/api/v1/me/addresses", address("Office")).JSON(t, &second)
	if !first.IsDefault || second.IsDefault {
		t.Fatalf("the first address is the default, the second not: %v %v", first.IsDefault, second.IsDefault)
	}
	r := alice.do(t, "POST", fmt.Sprintf("/api/v1/me/addresses/%d/default", second.ID), nil)
	if r.Status != 200 {
		t.Fatalf("set default: %d %s", r.Status, r.Body)
	}
	as := alice.addresses(t)
	if d := defaults(as); len(d) != 1 || d[0] != second.ID || as[0].ID != second.ID {
		t.Fatalf("after set default: %v", d)
	}

	var edited shop.Address
	r = alice.do(t, "PUT", fmt.Sprintf("/api/v1/me/addresses/%d", first.ID), with(address("Home, 2nd floor"), "consignee", "李四"))
	r.JSON(t, &edited)
	if r.Status != 200 || edited.Detail != "Home, 2nd floor" || edited.Consignee != "李四" || edited.IsDefault {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}

	// Other customers, in this shop or another, find nothing.
	for _, who := range []*buyer{bob, carol} {
		for _, req := range [][3]string{
			{"PUT", "/api/v1/me/addresses/%d", "body"},
			{"DELETE", "/api/v1/me/addresses/%d", ""},
			{"POST", "/api/v1/me/addresses/%d/default", ""},
		} {
			var body any
			if req[2] != "" {
				body = address("Mine now")
			}
			if r := who.do(t, req[0], fmt.Sprintf(req[1], first.ID), body); r.Status != 404 || r.ErrorCode() != "address_not_found" {
				t.Errorf("%s %s by another customer: %d %s", req[0], req[1], r.Status, r.Body)
			}
		}
		if n := len(who.addresses(t)); n != 0 {
			t.Errorf("another customer sees %d addresses", n)
		}
	}
	for _, p := range []string{"abc", "0", "-1", "99999999999999999999"} {
		if r := alice.do(t, "DELETE", "/api/v1/me/addresses/"+p, nil); r.Status != 404 {
			t.Errorf("DELETE /addresses/%s: %d", p, r.Status)
		}
	}

	// Deleting the default hands it to another address.
	if r := alice.do(t, "DELETE", fmt.Sprintf("/api/v1/me/addresses/%d", second.ID), nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if d := defaults(alice.addresses(t)); len(d) != 1 || d[0] != first.ID {
		t.Fatalf("after deleting the default: %v", d)
	}
	if r := alice.do(t, "DELETE", fmt.Sprintf("/api/v1/me/addresses/%d", second.ID), nil); r.Status != 404 {
		t.Fatalf("deleting twice: %d", r.Status)
	}

	// At most 20.
	for i := 1; i < shop.MaxAddresses; i++ {
		if r := alice.do(t, "POST", "/api/v1/me/addresses", address(fmt.Sprintf("Flat %d", i))); r.Status != 201 {
			t.Fatalf("address %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := alice.do(t, "POST", "/api/v1/me/addresses", address("One too many")); r.Status != 422 || r.ErrorCode() != "too_many_addresses" {
		t.Fatalf("21st address: %d %s", r.Status, r.Body)
	}
	if d := defaults(alice.addresses(t)); len(d) != 1 {
		t.Fatalf("defaults: %v", d)
	}
	var n int64
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM addresses WHERE tenant_id = ? AND customer_id = ?`, a.t.ID, alice.id).Scan(&n).Error
	})
	if n != shop.MaxAddresses {
		t.Fatalf("%d addresses stored", n)
	}
}
