// Package vault seals tenant secrets (WeChat app secrets, merchant keys, ...).
//
// Envelope encryption: each tenant has a random 256-bit data key, stored in
// tenant_keys wrapped with AES-256-GCM under the master key (associated data:
// the tenant id). Secrets are sealed with AES-256-GCM under the data key with
// the tenant id and a purpose in the associated data, so a ciphertext copied
// into another tenant's row, or into another field, fails to open.
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
)

const version byte = 1

// ErrOpen is returned when a ciphertext does not authenticate: wrong key,
// wrong tenant, wrong purpose or tampered bytes. It never says which.
var ErrOpen = errors.New("vault: ciphertext does not authenticate")

// Keyring holds the master key. It is safe for concurrent use.
type Keyring struct {
	master   cipher.AEAD
	masterID string
}

// New returns a keyring for a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("vault: master key must be 32 bytes, got %d", len(master))
	}
	a, err := gcm(master)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("minishop master key id:"), master...))
	return &Keyring{master: a, masterID: hex.EncodeToString(sum[:4])}, nil
}

// MasterID identifies the master key (a hash prefix, not the key) so rows
// wrapped by an older key can be found during rotation.
func (k *Keyring) MasterID() string { return k.masterID }

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

// dataKey returns the tenant's data key, creating it on first use. tx must be
// scoped to tenantID (RLS); a concurrent creator loses to ON CONFLICT and both
// read the same row.
func (k *Keyring) dataKey(ctx context.Context, tx *gorm.DB, tenantID int64) (cipher.AEAD, error) {
	var row struct{ Wrapped []byte }
	err := tx.WithContext(ctx).Raw(`SELECT wrapped FROM tenant_keys WHERE tenant_id = ?`, tenantID).Scan(&row).Error
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
			ON CONFLICT (tenant_id) DO NOTHING`, tenantID, k.masterID, w).Error
		if err != nil {
			return nil, err
		}
		if err := tx.WithContext(ctx).Raw(`SELECT wrapped FROM tenant_keys WHERE tenant_id = ?`, tenantID).Scan(&row).Error; err != nil {
			return nil, err
		}
	}
	dk, err := open(k.master, row.Wrapped, keyAAD(tenantID))
	if err != nil {
		return nil, fmt.Errorf("vault: data key of tenant %d does not open with the master key %s: %w", tenantID, k.masterID, err)
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
// TOTP secret) directly under the master key, bound to purpose.
func (k *Keyring) SealGlobal(purpose string, plaintext []byte) ([]byte, error) {
	return seal(k.master, plaintext, []byte("minishop/global/"+purpose))
}

// OpenGlobal decrypts what SealGlobal produced for the same purpose.
func (k *Keyring) OpenGlobal(purpose string, sealed []byte) ([]byte, error) {
	return open(k.master, sealed, []byte("minishop/global/"+purpose))
}
