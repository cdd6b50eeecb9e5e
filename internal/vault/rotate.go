package vault

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

// KeyState is where a tenant's data key stands in a master key rotation.
type KeyState int

// Key states.
const (
	NoKey    KeyState = iota // the tenant has no data key yet
	Current                  // wrapped by the current master key
	Previous                 // wrapped by a previous master key: to re-wrap
)

// TenantKeyState reports which master key wraps the tenant's data key, and
// checks that it really opens with it: an unknown master key or a data key
// that does not open is an error (ErrUnknownMaster, ErrOpen). tx must be
// scoped to tenantID.
func (k *Keyring) TenantKeyState(ctx context.Context, tx *gorm.DB, tenantID int64) (KeyState, error) {
	var rows []wrappedKey
	if err := tx.WithContext(ctx).Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ?`, tenantID).Scan(&rows).Error; err != nil {
		return NoKey, err
	}
	if len(rows) == 0 {
		return NoKey, nil
	}
	if _, err := k.unwrap(tenantID, rows[0]); err != nil {
		return NoKey, err
	}
	if rows[0].MasterID == k.masterID {
		return Current, nil
	}
	return Previous, nil
}

// RewrapTenant re-wraps the tenant's data key under the current master key if
// a previous one wraps it, and reports whether it did. The data key itself is
// unchanged, so everything sealed with it still opens. It locks the row, so
// concurrent rotations do not both write it; running it again is a no-op.
// tx must be a transaction scoped to tenantID.
func (k *Keyring) RewrapTenant(ctx context.Context, tx *gorm.DB, tenantID int64) (bool, error) {
	var rows []wrappedKey
	if err := tx.WithContext(ctx).Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ? FOR UPDATE`, tenantID).Scan(&rows).Error; err != nil {
		return false, err
	}
	if len(rows) == 0 || rows[0].MasterID == k.masterID {
		return false, nil
	}
	dk, err := k.unwrap(tenantID, rows[0])
	if err != nil {
		return false, err
	}
	w, err := seal(k.master, dk, keyAAD(tenantID))
	if err != nil {
		return false, err
	}
	res := tx.WithContext(ctx).Exec(`UPDATE tenant_keys SET master_id = ?, wrapped = ?, rotated_at = now() WHERE tenant_id = ?`,
		k.masterID, db.Bytes(w), tenantID)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected != 1 {
		return false, fmt.Errorf("vault: re-wrapping the data key of tenant %d updated %d rows (is the transaction scoped to the tenant?)", tenantID, res.RowsAffected)
	}
	return true, nil
}

// PlatformKeyPurpose is the purpose a platform key called name is sealed
// for (SealGlobal), for rotating platform_keys.
func PlatformKeyPurpose(name string) string { return platformPurpose(name) }

// GlobalState reports whether a SealGlobal ciphertext opens with the current
// master key (Current) or only with a previous one (Previous); ErrOpen if
// neither.
func (k *Keyring) GlobalState(purpose string, sealed []byte) (KeyState, error) {
	_, current, err := k.openGlobal(purpose, sealed)
	switch {
	case err != nil:
		return NoKey, err
	case current:
		return Current, nil
	}
	return Previous, nil
}

// ResealGlobal returns a SealGlobal ciphertext sealed under the current
// master key, and whether it had to change: one that already opens with the
// current key is returned as it is.
func (k *Keyring) ResealGlobal(purpose string, sealed []byte) ([]byte, bool, error) {
	p, current, err := k.openGlobal(purpose, sealed)
	if err != nil {
		return nil, false, err
	}
	if current {
		return sealed, false, nil
	}
	out, err := k.SealGlobal(purpose, p)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
