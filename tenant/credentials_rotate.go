package tenant

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/vault"
)

// RotateOptions tune RotateMasterKey.
type RotateOptions struct {
	DryRun   bool                 // count only
	Batch    int                  // rows per batch (default 200)
	Progress func(RotateProgress) // called after each batch, if set
}

// RotateProgress is where a rotation stands.
type RotateProgress struct {
	Phase string // "scan tenant keys", "scan TOTP secrets", "re-wrap tenant keys", "re-seal TOTP secrets", "re-seal platform keys"
	Done  int    // rows handled in this phase so far
	Total int    // rows of the phase (0 while scanning: unknown)
}

// RotateCount counts one kind of row.
type RotateCount struct {
	Current int // already under the current master key before this run
	Moved   int // moved to the current key by this run (on a dry run: to move)
}

// RotateReport is what a rotation found and did.
type RotateReport struct {
	DryRun       bool
	TenantKeys   RotateCount // tenant data keys (tenant_keys)
	TOTPSecrets  RotateCount // users' TOTP secrets (users.totp_sealed)
	PlatformKeys RotateCount // platform-wide secrets (platform_keys)
}

// RotateBlocked is returned, before anything is changed, when some rows open
// with neither the current nor a previous master key of the keyring: most
// likely the previous key given is not the one that wrapped them.
type RotateBlocked struct {
	TenantKeys   []int64  // tenants whose data key does not open
	Users        []int64  // users whose TOTP secret does not open
	PlatformKeys []string // platform keys that do not open
	UnknownKeys  []string // master key ids found in tenant_keys that the keyring lacks
}

func (e *RotateBlocked) Error() string {
	var parts []string
	if n := len(e.TenantKeys); n > 0 {
		parts = append(parts, fmt.Sprintf("%d tenant data key(s) (tenants %s)", n, idList(e.TenantKeys)))
	}
	if n := len(e.Users); n > 0 {
		parts = append(parts, fmt.Sprintf("%d TOTP secret(s) (users %s)", n, idList(e.Users)))
	}
	if n := len(e.PlatformKeys); n > 0 {
		parts = append(parts, fmt.Sprintf("%d platform key(s) (%s)", n, strings.Join(e.PlatformKeys, ", ")))
	}
	msg := "nothing was changed: " + strings.Join(parts, " and ") + " open with neither the current nor the previous master key"
	if len(e.UnknownKeys) > 0 {
		msg += "; tenant_keys names master key id(s) " + strings.Join(e.UnknownKeys, ", ") + " that neither key has"
	}
	return msg
}

func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 5 {
			fmt.Fprintf(&b, ", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, id)
	}
	return b.String()
}

// RotateMasterKey moves everything still under a previous master key of keys
// to its current one: each tenant's data key is re-wrapped (the data key
// itself, and so every sealed credential, stays as it is), and each user's
// TOTP secret and each platform key is re-sealed (their values stay too).
//
// It first reads every row and checks that it opens; if any does not (a
// wrong previous key), it returns *RotateBlocked having changed nothing.
// Then it moves each row in its own short transaction, so servers holding
// both keys keep serving throughout. It is idempotent and resumable: rows
// already under the current key are left alone, so running it again after an
// interruption finishes the job, and a run with nothing to do changes
// nothing. g must connect as the schema's owner (the app role may not
// change platform_keys); tenant_keys is still read under RLS, one tenant at
// a time.
func RotateMasterKey(ctx context.Context, g *gorm.DB, keys *vault.Keyring, o RotateOptions) (*RotateReport, error) {
	if o.Batch <= 0 {
		o.Batch = 200
	}
	progress := func(p RotateProgress) {
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	rep := &RotateReport{DryRun: o.DryRun}
	blocked := &RotateBlocked{}
	unknown := map[string]bool{}

	// Scan: which rows are under a previous key, and do they all open?
	var tenantsToMove []int64
	var after int64
	done := 0
	for {
		var ids []int64
		if err := g.WithContext(ctx).Raw(`SELECT id FROM tenants WHERE id > ? ORDER BY id LIMIT ?`, after, o.Batch).Scan(&ids).Error; err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		err := g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, id := range ids {
				if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", fmt.Sprint(id)).Error; err != nil {
					return err
				}
				st, err := keys.TenantKeyState(ctx, tx, id)
				switch {
				case errors.Is(err, vault.ErrUnknownMaster) || errors.Is(err, vault.ErrOpen):
					blocked.TenantKeys = append(blocked.TenantKeys, id)
					if errors.Is(err, vault.ErrUnknownMaster) {
						var mid string
						if err := tx.Raw(`SELECT master_id FROM tenant_keys WHERE tenant_id = ?`, id).Scan(&mid).Error; err != nil {
							return err
						}
						unknown[mid] = true
					}
				case err != nil:
					return err
				case st == vault.Current:
					rep.TenantKeys.Current++
				case st == vault.Previous:
					tenantsToMove = append(tenantsToMove, id)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		done += len(ids)
		progress(RotateProgress{Phase: "scan tenant keys", Done: done})
	}

	var usersToMove []int64
	after, done = 0, 0
	for {
		var rows []struct {
			ID         int64
			TOTPSealed []byte
		}
		if err := g.WithContext(ctx).Raw(`SELECT id, totp_sealed FROM users WHERE totp_sealed IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
			after, o.Batch).Scan(&rows).Error; err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			break
		}
		after = rows[len(rows)-1].ID
		for _, r := range rows {
			switch st, err := keys.GlobalState(totpPurpose(r.ID), r.TOTPSealed); {
			case err != nil:
				blocked.Users = append(blocked.Users, r.ID)
			case st == vault.Current:
				rep.TOTPSecrets.Current++
			default:
				usersToMove = append(usersToMove, r.ID)
			}
		}
		done += len(rows)
		progress(RotateProgress{Phase: "scan TOTP secrets", Done: done})
	}
	var platform []struct {
		Name   string
		Sealed []byte
	}
	if err := g.WithContext(ctx).Raw(`SELECT name, sealed FROM platform_keys ORDER BY name`).Scan(&platform).Error; err != nil {
		return nil, err
	}
	var platformToMove []string
	for _, p := range platform {
		switch st, err := keys.GlobalState(vault.PlatformKeyPurpose(p.Name), p.Sealed); {
		case err != nil:
			blocked.PlatformKeys = append(blocked.PlatformKeys, p.Name)
		case st == vault.Current:
			rep.PlatformKeys.Current++
		default:
			platformToMove = append(platformToMove, p.Name)
		}
	}
	blocked.UnknownKeys = slices.Sorted(maps.Keys(unknown))
	if len(blocked.TenantKeys) > 0 || len(blocked.Users) > 0 || len(blocked.PlatformKeys) > 0 {
		return nil, blocked
	}
	if o.DryRun {
		rep.TenantKeys.Moved, rep.TOTPSecrets.Moved, rep.PlatformKeys.Moved = len(tenantsToMove), len(usersToMove), len(platformToMove)
		return rep, nil
	}

	// Move, one row per transaction.
	for i, id := range tenantsToMove {
		var moved bool
		err := db.InTenant(scope.WithTenant(ctx, id), g, func(tx *gorm.DB) error {
			var err error
			moved, err = keys.RewrapTenant(ctx, tx, id)
			return err
		})
		if err != nil {
			return rep, fmt.Errorf("re-wrapping the data key of tenant %d: %w", id, err)
		}
		if moved {
			rep.TenantKeys.Moved++
		} else {
			rep.TenantKeys.Current++ // moved meanwhile by a concurrent run
		}
		if (i+1)%o.Batch == 0 || i+1 == len(tenantsToMove) {
			progress(RotateProgress{Phase: "re-wrap tenant keys", Done: i + 1, Total: len(tenantsToMove)})
		}
	}
	for i, id := range usersToMove {
		moved, err := resealRow(ctx, g, keys, `SELECT totp_sealed AS sealed FROM users WHERE id = ? FOR UPDATE`,
			`UPDATE users SET totp_sealed = ? WHERE id = ?`, totpPurpose(id), id)
		if err != nil {
			return rep, fmt.Errorf("re-sealing the TOTP secret of user %d: %w", id, err)
		}
		if moved {
			rep.TOTPSecrets.Moved++
		} else {
			rep.TOTPSecrets.Current++
		}
		if (i+1)%o.Batch == 0 || i+1 == len(usersToMove) {
			progress(RotateProgress{Phase: "re-seal TOTP secrets", Done: i + 1, Total: len(usersToMove)})
		}
	}
	for i, name := range platformToMove {
		moved, err := resealRow(ctx, g, keys, `SELECT sealed FROM platform_keys WHERE name = ? FOR UPDATE`,
			`UPDATE platform_keys SET sealed = ? WHERE name = ?`, vault.PlatformKeyPurpose(name), name)
		if err != nil {
			return rep, fmt.Errorf("re-sealing platform key %s: %w", name, err)
		}
		if moved {
			rep.PlatformKeys.Moved++
		} else {
			rep.PlatformKeys.Current++
		}
		if i+1 == len(platformToMove) {
			progress(RotateProgress{Phase: "re-seal platform keys", Done: i + 1, Total: len(platformToMove)})
		}
	}
	return rep, nil
}

// resealRow re-seals one SealGlobal ciphertext in its own transaction:
// selectQ locks and reads it (as column sealed; no row or NULL: gone
// meanwhile, nothing to do), updateQ writes the new one. It reports whether
// the row changed.
func resealRow(ctx context.Context, g *gorm.DB, keys *vault.Keyring, selectQ, updateQ, purpose string, id any) (bool, error) {
	moved := false
	err := g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row struct{ Sealed []byte }
		if err := tx.Raw(selectQ, id).Scan(&row).Error; err != nil {
			return err
		}
		if row.Sealed == nil {
			return nil
		}
		out, changed, err := keys.ResealGlobal(purpose, row.Sealed)
		if err != nil || !changed {
			return err
		}
		moved = true
		return tx.Exec(updateQ, db.Bytes(out), id).Error
	})
	return moved, err
}
