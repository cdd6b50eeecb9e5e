package vault_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/vault"
)

func TestPlatformKeysAreSharedAndStable(t *testing.T) {
	url := testenv.DatabaseURL(t)
	g, err := db.Open(context.Background(), url, db.Options{Role: "minishop_app"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(g)
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	k, _ := vault.New(master)
	// Two processes asking at once get the same key.
	a, b := vault.NewPlatformKeys(k, g), vault.NewPlatformKeys(k, g)
	ch := make(chan []byte, 2)
	for _, p := range []*vault.PlatformKeys{a, b} {
		go func() {
			key, err := p.Key(context.Background(), "buyer-id-hash")
			if err != nil {
				t.Error(err)
			}
			ch <- key
		}()
	}
	k1, k2 := <-ch, <-ch
	if len(k1) != 32 || string(k1) != string(k2) {
		t.Fatal("two processes must agree on a platform key")
	}
	other, _ := a.Key(context.Background(), "customer-token")
	if string(other) == string(k1) {
		t.Fatal("different names must give different keys")
	}
	// With another master key the stored key does not open.
	wrong := make([]byte, 32)
	_, _ = rand.Read(wrong)
	kw, _ := vault.New(wrong)
	if _, err := vault.NewPlatformKeys(kw, g).Key(context.Background(), "buyer-id-hash"); err == nil {
		t.Fatal("a platform key must not open with another master key")
	}
}
