package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/vault"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func keyring(t *testing.T, current []byte, previous ...[]byte) *vault.Keyring {
	t.Helper()
	k, err := vault.New(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// database opens a fresh migrated database as the app role (under RLS) with
// n tenants, and returns their ids.
func database(t *testing.T, n int) (*gorm.DB, []int64) {
	t.Helper()
	g, err := db.Open(context.Background(), testenv.DatabaseURL(t), db.Options{Role: "minishop_app", MaxOpen: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(g) })
	var ids []int64
	for i := range n {
		var id int64
		if err := g.Raw(`INSERT INTO tenants (slug, name) VALUES (?, 'Brand') RETURNING id`, "brand-"+string(rune('a'+i))+"x").Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return g, ids
}

func inTenant(t *testing.T, g *gorm.DB, tid int64, fn func(tx *gorm.DB) error) error {
	t.Helper()
	return db.InTenant(scope.WithTenant(context.Background(), tid), g, fn)
}

func seal(t *testing.T, g *gorm.DB, k *vault.Keyring, tid int64, purpose, plain string) []byte {
	t.Helper()
	var out []byte
	err := inTenant(t, g, tid, func(tx *gorm.DB) error {
		var err error
		out, err = k.Seal(context.Background(), tx, tid, purpose, []byte(plain))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func open(t *testing.T, g *gorm.DB, k *vault.Keyring, tid int64, purpose string, sealed []byte) (string, error) {
	t.Helper()
	var out []byte
	err := inTenant(t, g, tid, func(tx *gorm.DB) error {
		var err error
		out, err = k.Open(context.Background(), tx, tid, purpose, sealed)
		return err
	})
	return string(out), err
}

func masterIDOf(t *testing.T, g *gorm.DB, tid int64) string {
	t.Helper()
	var id string
	if err := inTenant(t, g, tid, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT master_id FROM tenant_keys WHERE tenant_id = ?`, tid).Scan(&id).Error
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestNew(t *testing.T) {
	if _, err := vault.New(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
	k1 := key(t)
	if _, err := vault.New(k1, make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte previous key was accepted")
	}
	k := keyring(t, k1, nil, []byte{}, k1)
	if len(k.PreviousIDs()) != 0 {
		t.Fatalf("empty previous keys and the current key itself must be ignored; got %v", k.PreviousIDs())
	}
	k2 := key(t)
	k = keyring(t, k2, k1, k1)
	if ids := k.PreviousIDs(); len(ids) != 1 || ids[0] != vault.KeyID(k1) || k.MasterID() != vault.KeyID(k2) {
		t.Fatalf("ids: current %s previous %v", k.MasterID(), ids)
	}
}

// A ciphertext opens only for its own tenant and purpose: copied into another
// tenant's row, or another field, it does not.
func TestSealedBoundToTenantAndPurpose(t *testing.T) {
	g, ids := database(t, 2)
	a, b := ids[0], ids[1]
	k := keyring(t, key(t))
	sealed := seal(t, g, k, a, "credentials/live/miniprogram", "the-app-secret")
	if got, err := open(t, g, k, a, "credentials/live/miniprogram", sealed); err != nil || got != "the-app-secret" {
		t.Fatalf("own tenant: %q, %v", got, err)
	}
	seal(t, g, k, b, "credentials/live/miniprogram", "other") // b has a data key of its own
	if _, err := open(t, g, k, b, "credentials/live/miniprogram", sealed); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("another tenant opened the ciphertext: %v", err)
	}
	if _, err := open(t, g, k, a, "credentials/test/miniprogram", sealed); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("another purpose opened the ciphertext: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := open(t, g, k, a, "credentials/live/miniprogram", tampered); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("a tampered ciphertext opened: %v", err)
	}
}

// During a rotation the keyring opens data keys wrapped by the previous key,
// wraps new ones with the current key, and RewrapTenant moves the old ones.
func TestRotation(t *testing.T) {
	g, ids := database(t, 2)
	a, b := ids[0], ids[1]
	k1, k2 := key(t), key(t)
	before := keyring(t, k1)
	sealed := seal(t, g, before, a, "p", "sealed before rotation")

	both := keyring(t, k2, k1)
	if got, err := open(t, g, both, a, "p", sealed); err != nil || got != "sealed before rotation" {
		t.Fatalf("both keys: %q, %v", got, err)
	}
	seal(t, g, both, b, "p", "new tenant")
	if masterIDOf(t, g, a) != vault.KeyID(k1) || masterIDOf(t, g, b) != vault.KeyID(k2) {
		t.Fatalf("master ids: a %s b %s", masterIDOf(t, g, a), masterIDOf(t, g, b))
	}
	onlyNew := keyring(t, k2)
	if _, err := open(t, g, onlyNew, a, "p", sealed); !errors.Is(err, vault.ErrUnknownMaster) {
		t.Fatalf("without the old key, an old data key must fail clearly: %v", err)
	}

	for i, want := range []bool{true, false} {
		var moved bool
		var st vault.KeyState
		err := inTenant(t, g, a, func(tx *gorm.DB) error {
			var err error
			if moved, err = both.RewrapTenant(context.Background(), tx, a); err != nil {
				return err
			}
			st, err = both.TenantKeyState(context.Background(), tx, a)
			return err
		})
		if err != nil || moved != want || st != vault.Current {
			t.Fatalf("rewrap run %d: moved %v (want %v), state %v, %v", i+1, moved, want, st, err)
		}
	}
	if got, err := open(t, g, onlyNew, a, "p", sealed); err != nil || got != "sealed before rotation" {
		t.Fatalf("after rotation, with only the new key: %q, %v", got, err)
	}
	if _, err := open(t, g, before, a, "p", sealed); !errors.Is(err, vault.ErrUnknownMaster) {
		t.Fatalf("after rotation the old key alone must not open: %v", err)
	}
	// The wrong previous key does not open the data key either.
	var st vault.KeyState
	err := inTenant(t, g, b, func(tx *gorm.DB) error {
		var err error
		st, err = keyring(t, key(t), key(t)).TenantKeyState(context.Background(), tx, b)
		return err
	})
	if !errors.Is(err, vault.ErrUnknownMaster) {
		t.Fatalf("state under unrelated keys: %v, %v", st, err)
	}
}

func TestGlobalRotation(t *testing.T) {
	k1, k2 := key(t), key(t)
	old := keyring(t, k1)
	sealed, err := old.SealGlobal("totp/7", []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	both := keyring(t, k2, k1)
	if p, err := both.OpenGlobal("totp/7", sealed); err != nil || string(p) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open with both keys: %q, %v", p, err)
	}
	if _, err := both.OpenGlobal("totp/8", sealed); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("another purpose opened: %v", err)
	}
	if st, err := both.GlobalState("totp/7", sealed); err != nil || st != vault.Previous {
		t.Fatalf("state: %v, %v", st, err)
	}
	resealed, changed, err := both.ResealGlobal("totp/7", sealed)
	if err != nil || !changed {
		t.Fatalf("reseal: %v, %v", changed, err)
	}
	if p, err := keyring(t, k2).OpenGlobal("totp/7", resealed); err != nil || string(p) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open with only the new key: %q, %v", p, err)
	}
	again, changed, err := both.ResealGlobal("totp/7", resealed)
	if err != nil || changed || !bytes.Equal(again, resealed) {
		t.Fatalf("a second reseal must change nothing: %v, %v", changed, err)
	}
	if _, _, err := keyring(t, key(t), key(t)).ResealGlobal("totp/7", sealed); !errors.Is(err, vault.ErrOpen) {
		t.Fatalf("reseal with unrelated keys: %v", err)
	}
}
