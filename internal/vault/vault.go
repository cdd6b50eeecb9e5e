// Package vault seals tenant secrets (WeChat app secrets, merchant keys, ...).
//
// Envelope encryption: each tenant has a random 256-bit data key, stored in
// tenant_keys wrapped with AES-256-GCM under the master key (associated data:
// the tenant id). Secrets are sealed with AES-256-GCM under the data key with
// the tenant id and a purpose in the associated data, so a ciphertext copied
// into another tenant's row, or into another field, fails to open.
//
// The master key can be rotated without downtime. A Keyring holds the current
// master key and, during a rotation, previous ones: it opens data keys wrapped
// by any of them (tenant_keys.master_id says which) and wraps new data keys
// with the current one only. RewrapTenant and ResealGlobal move existing rows
// to the current key; the data keys themselves do not change, so the sealed
// credentials stay as they are.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

const version byte = 1

// ErrOpen is returned when a ciphertext does not authenticate: wrong key,
// wrong tenant, wrong purpose or tampered bytes. It never says which.
var ErrOpen = errors.New("vault: ciphertext does not authenticate")

// ErrUnknownMaster is returned when a data key is wrapped by a master key the
// Keyring does not hold (neither the current key nor a previous one).
var ErrUnknownMaster = errors.New("vault: data key is wrapped by an unknown master key")

type masterKey struct {
	id   string
	aead cipher.AEAD
}

// Keyring holds the current master key and any previous ones. It is safe for
// concurrent use.
type Keyring struct {
	master   cipher.AEAD
	masterID string
	previous []masterKey
}

// New returns a keyring for a 32-byte master key. previous are older master
// keys still accepted for opening during a rotation; nil or empty entries and
// the current key itself are ignored, so callers can pass an optional setting
// as it is.
func New(master []byte, previous ...[]byte) (*Keyring, error) {
	cur, err := newMaster(master)
	if err != nil {
		return nil, err
	}
	k := &Keyring{master: cur.aead, masterID: cur.id}
	for i, p := range previous {
		if len(p) == 0 {
			continue
		}
		old, err := newMaster(p)
		if err != nil {
			return nil, fmt.Errorf("vault: previous master key %d: %w", i+1, err)
		}
		if old.id == cur.id || k.has(old.id) {
			continue
		}
		k.previous = append(k.previous, old)
	}
	return k, nil
}

func newMaster(key []byte) (masterKey, error) {
	if len(key) != 32 {
		return masterKey{}, fmt.Errorf("vault: master key must be 32 bytes, got %d", len(key))
	}
	a, err := gcm(key)
	if err != nil {
		return masterKey{}, err
	}
	return masterKey{id: KeyID(key), aead: a}, nil
}

// KeyID identifies a master key by a hash prefix (never the key itself); it
// is what tenant_keys.master_id records. It does not check the key's length.
func KeyID(master []byte) string {
	sum := sha256.Sum256(append([]byte("minishop master key id:"), master...))
	return hex.EncodeToString(sum[:4])
}

// MasterID identifies the current master key (a hash prefix, not the key) so
// rows wrapped by an older key can be found during rotation.
func (k *Keyring) MasterID() string { return k.masterID }

// PreviousIDs identifies the previous master keys the keyring accepts.
func (k *Keyring) PreviousIDs() []string {
	out := make([]string, len(k.previous))
	for i, p := range k.previous {
		out[i] = p.id
	}
	return out
}

func (k *Keyring) has(id string) bool {
	_, ok := k.masterFor(id)
	return ok
}

// masterFor returns the master key with id, current or previous.
func (k *Keyring) masterFor(id string) (cipher.AEAD, bool) {
	if id == k.masterID {
		return k.master, true
	}
	for _, p := range k.previous {
		if p.id == id {
			return p.aead, true
		}
	}
	return nil, false
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func seal(a cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plaintext)+a.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return a.Seal(out, out[1:1+a.NonceSize()], plaintext, aad), nil
}

func open(a cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+a.NonceSize()+a.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	n := a.NonceSize()
	p, err := a.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return p, nil
}

func keyAAD(tenantID int64) []byte { return fmt.Appendf(nil, "minishop/tenant-key/%d", tenantID) }

func secretAAD(tenantID int64, purpose string) []byte {
	return fmt.Appendf(nil, "minishop/secret/%d/%s", tenantID, purpose)
}

func globalAAD(purpose string) []byte { return []byte("minishop/global/" + purpose) }

// wrappedKey is a tenant_keys row.
type wrappedKey struct {
	MasterID string
	Wrapped  []byte
}

// unwrap opens a wrapped data key with the master key that wrapped it.
func (k *Keyring) unwrap(tenantID int64, w wrappedKey) ([]byte, error) {
	m, ok := k.masterFor(w.MasterID)
	if !ok {
		return nil, fmt.Errorf("vault: the data key of tenant %d is wrapped by master key %s, which is neither the current master key %s nor a previous one this process was given: %w",
			tenantID, w.MasterID, k.masterID, ErrUnknownMaster)
	}
	dk, err := open(m, w.Wrapped, keyAAD(tenantID))
	if err != nil {
		return nil, fmt.Errorf("vault: the data key of tenant %d does not open with master key %s: %w", tenantID, w.MasterID, err)
	}
	return dk, nil
}

// dataKey returns the tenant's data key, creating it on first use. tx must be
// scoped to tenantID (RLS); a concurrent creator loses to ON CONFLICT and both
// read the same row.
func (k *Keyring) dataKey(ctx context.Context, tx *gorm.DB, tenantID int64) (cipher.AEAD, error) {
	var row wrappedKey
	err := tx.WithContext(ctx).Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ?`, tenantID).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	if row.Wrapped == nil {
		dk := make([]byte, 32)
		if _, err := rand.Read(dk); err != nil {
			return nil, err
		}
		w, err := seal(k.master, dk, keyAAD(tenantID))
		if err != nil {
			return nil, err
		}
		err = tx.WithContext(ctx).Exec(`INSERT INTO tenant_keys (tenant_id, master_id, wrapped) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO NOTHING`, tenantID, k.masterID, db.Bytes(w)).Error
		if err != nil {
			return nil, err
		}
		if err := tx.WithContext(ctx).Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ?`, tenantID).Scan(&row).Error; err != nil {
			return nil, err
		}
	}
	dk, err := k.unwrap(tenantID, row)
	if err != nil {
		return nil, err
	}
	return gcm(dk)
}

// Seal encrypts plaintext for tenantID and purpose (e.g. "credentials/3").
// tx must be a transaction scoped to tenantID.
func (k *Keyring) Seal(ctx context.Context, tx *gorm.DB, tenantID int64, purpose string, plaintext []byte) ([]byte, error) {
	a, err := k.dataKey(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	return seal(a, plaintext, secretAAD(tenantID, purpose))
}

// Open decrypts what Seal produced for the same tenant and purpose; anything
// else yields ErrOpen.
func (k *Keyring) Open(ctx context.Context, tx *gorm.DB, tenantID int64, purpose string, sealed []byte) ([]byte, error) {
	a, err := k.dataKey(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	return open(a, sealed, secretAAD(tenantID, purpose))
}

// SealGlobal encrypts a platform secret that belongs to no tenant (a user's
// TOTP secret) directly under the current master key, bound to purpose.
func (k *Keyring) SealGlobal(purpose string, plaintext []byte) ([]byte, error) {
	return seal(k.master, plaintext, globalAAD(purpose))
}

// OpenGlobal decrypts what SealGlobal produced for the same purpose, under the
// current master key or a previous one.
func (k *Keyring) OpenGlobal(purpose string, sealed []byte) ([]byte, error) {
	p, _, err := k.openGlobal(purpose, sealed)
	return p, err
}

// openGlobal also reports whether the current key opened it.
func (k *Keyring) openGlobal(purpose string, sealed []byte) (plain []byte, current bool, err error) {
	if p, err := open(k.master, sealed, globalAAD(purpose)); err == nil {
		return p, true, nil
	}
	for _, m := range k.previous {
		if p, err := open(m.aead, sealed, globalAAD(purpose)); err == nil {
			return p, false, nil
		}
	}
	return nil, false, ErrOpen
}
