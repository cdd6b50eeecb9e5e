package vault

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

// PlatformKeys hands out platform-wide secrets (32 random bytes each, made
// on first use, sealed under the master key in platform_keys). Unlike keys
// derived from the master key, they survive master key rotation, so what is
// signed or hashed with them stays valid. Safe for concurrent use.
type PlatformKeys struct {
	k  *Keyring
	db *gorm.DB

	mu    sync.Mutex
	cache map[string][]byte
}

// NewPlatformKeys returns the platform keys stored in g.
func NewPlatformKeys(k *Keyring, g *gorm.DB) *PlatformKeys {
	return &PlatformKeys{k: k, db: g, cache: map[string][]byte{}}
}

func platformPurpose(name string) string { return "platform-key/" + name }

// Key returns the secret called name, creating it on first use. Concurrent
// creators agree: the first insert wins and everyone reads it back.
func (p *PlatformKeys) Key(ctx context.Context, name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.cache[name]; ok {
		return k, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	sealed, err := p.k.SealGlobal(platformPurpose(name), raw)
	if err != nil {
		return nil, err
	}
	if err := p.db.WithContext(ctx).Exec(`INSERT INTO platform_keys (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, db.Bytes(sealed)).Error; err != nil {
		return nil, err
	}
	var row struct{ Sealed []byte }
	if err := p.db.WithContext(ctx).Raw(`SELECT sealed FROM platform_keys WHERE name = ?`, name).Scan(&row).Error; err != nil {
		return nil, err
	}
	key, err := p.k.OpenGlobal(platformPurpose(name), row.Sealed)
	if err != nil {
		return nil, fmt.Errorf("vault: platform key %q does not open with the master key: %w", name, err)
	}
	p.cache[name] = key
	return key, nil
}

// MAC returns HMAC-SHA256(Key(name), data).
func (p *PlatformKeys) MAC(ctx context.Context, name string, data []byte) ([]byte, error) {
	k, err := p.Key(ctx, name)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k)
	m.Write(data)
	return m.Sum(nil), nil
}
