package shop_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// Valid resident ID numbers (check digits computed by hand; the first is
// the example of GB 11643).
const (
	idZhang = "11010519491231002X"
	idLi    = "330106198808088882"
)

func (b *buyer) identities(t *testing.T) []shop.Identity {
	t.Helper()
	var out struct{ Identities []shop.Identity }
	r := b.do(t, "GET", "/api/v1/me/identities", nil)
	r.JSON(t, &out)
	if r.Status != 200 || out.Identities == nil {
		t.Fatalf("identities: %d %s", r.Status, r.Body)
	}
	return out.Identities
}

func TestBuyerIdentities(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	b := newMiniShop(t, e, "tokyo-tea").provision(t)
	alice, bob := a.signIn(t, "alice"), a.signIn(t, "bob")
	carol := b.signIn(t, "carol")

	bad := []struct {
		name, number, want string
	}{
		{"张三", "110105194912310021", "the ID number's check digit is wrong"},
		{"张三", "11010519491231002", "18 characters"},
		{"张三", "990101199003071237", "region code"},
		{"张三", "110101199002301236", "date of birth"},
		{"张", idZhang, "2 to 30 characters"},
		{"张三3", idZhang, "as on the ID card"},
		{"", idZhang, "2 to 30 characters"},
	}
	for _, tc := range bad {
		r := alice.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": tc.name, "id_number": tc.number})
		if r.Status != 400 || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("%s %s: %d %s", tc.name, tc.number, r.Status, r.Body)
		}
	}

	r := alice.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": "张三", "id_number": strings.ToLower(idZhang)})
	var zhang shop.Identity
	r.JSON(t, &zhang)
	if r.Status != 201 || zhang.Name != "张*" || zhang.IDNumber != "1101**********002X" || !zhang.IsDefault {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "张三") || strings.Contains(string(r.Body), "19491231") {
		t.Fatalf("the reply shows the identity: %s", r.Body)
	}
	if r := alice.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": "张三", "id_number": idZhang}); r.Status != 409 || r.ErrorCode() != "identity_exists" {
		t.Fatalf("the same number twice: %d %s", r.Status, r.Body)
	}
	var li shop.Identity
	alice.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": "Anna Lindqvist", "id_number": idLi}).JSON(t, &li)
	if li.IsDefault || li.Name != "A*** *********" || li.IDNumber != "3301**********8882" {
		t.Fatalf("second identity: %+v", li)
	}
	list := alice.identities(t)
	if len(list) != 2 || list[0].ID != zhang.ID || !list[0].IsDefault {
		t.Fatalf("list: %+v", list)
	}
	if r := alice.do(t, "GET", "/api/v1/me/identities", nil); strings.Contains(string(r.Body), "张三") || strings.Contains(string(r.Body), idLi) {
		t.Fatalf("the list shows an identity: %s", r.Body)
	}

	// At rest: sealed, nothing readable in any column.
	var rows []struct {
		Row        string
		NameSealed []byte
		IDSealed   []byte `gorm:"column:id_sealed"`
		IDHash     string `gorm:"column:id_hash"`
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT row_to_json(b)::text AS row, name_sealed, id_sealed, id_hash FROM buyer_identities b WHERE tenant_id = ? ORDER BY id`, a.t.ID).Scan(&rows).Error
	})
	for _, row := range rows {
		for _, plain := range []string{"张三", idZhang, "Anna Lindqvist", idLi, "19491231", "19880808"} {
			if strings.Contains(row.Row, plain) || strings.Contains(row.Row, hex.EncodeToString([]byte(plain))) ||
				bytes.Contains(row.NameSealed, []byte(plain)) || bytes.Contains(row.IDSealed, []byte(plain)) {
				t.Fatalf("%q is readable in the database: %s", plain, row.Row)
			}
		}
	}

	// Opened for customs, it is what was entered (upper-case X).
	got, err := e.App.Shop.OpenIdentity(a.ctx(), alice.id, zhang.ID)
	if err != nil || got.Name != "张三" || got.IDNumber != idZhang {
		t.Fatalf("open: %v, %v", got, err)
	}
	// A sealed value moved to another row does not open.
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE buyer_identities SET name_sealed = (SELECT name_sealed FROM buyer_identities WHERE tenant_id = ? AND id = ?)
			WHERE tenant_id = ? AND id = ?`, a.t.ID, zhang.ID, a.t.ID, li.ID).Error
	})
	if _, err := e.App.Shop.OpenIdentity(a.ctx(), alice.id, li.ID); err == nil {
		t.Fatal("a name sealed for one identity opened in another")
	}
	if _, err := e.App.Shop.OpenIdentity(a.ctx(), bob.id, zhang.ID); err == nil {
		t.Fatal("opened another customer's identity")
	}

	// The hash of a number is the same in every shop, and only depends on the number.
	r = carol.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": "张三", "id_number": idZhang})
	var carolZhang shop.Identity
	r.JSON(t, &carolZhang)
	if r.Status != 201 {
		t.Fatalf("carol: %d %s", r.Status, r.Body)
	}
	var hashB string
	b.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id_hash FROM buyer_identities WHERE tenant_id = ? AND id = ?`, b.t.ID, carolZhang.ID).Scan(&hashB).Error
	})
	if len(rows[0].IDHash) != 64 || rows[0].IDHash != hashB || rows[1].IDHash == hashB {
		t.Fatalf("id_hash across shops: %s vs %s (other %s)", rows[0].IDHash, hashB, rows[1].IDHash)
	}

	// Other customers, here or in another shop, find nothing.
	for _, who := range []*buyer{bob, carol} {
		for _, path := range []string{"/api/v1/me/identities/%d", "/api/v1/me/identities/%d/default"} {
			method := "DELETE"
			if strings.HasSuffix(path, "default") {
				method = "POST"
			}
			if r := who.do(t, method, fmt.Sprintf(path, zhang.ID), nil); r.Status != 404 || r.ErrorCode() != "identity_not_found" {
				t.Errorf("%s %s by another customer: %d %s", method, path, r.Status, r.Body)
			}
		}
	}
	if n := len(bob.identities(t)); n != 0 {
		t.Fatalf("bob sees %d identities", n)
	}

	// Default handling.
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/me/identities/%d/default", li.ID), nil); r.Status != 200 {
		t.Fatalf("set default: %d %s", r.Status, r.Body)
	}
	if l := alice.identities(t); !l[0].IsDefault || l[0].ID != li.ID || l[1].IsDefault {
		t.Fatalf("after set default: %+v", l)
	}
	if r := alice.do(t, "DELETE", fmt.Sprintf("/api/v1/me/identities/%d", li.ID), nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if l := alice.identities(t); len(l) != 1 || l[0].ID != zhang.ID || !l[0].IsDefault {
		t.Fatalf("after deleting the default: %+v", l)
	}
}
