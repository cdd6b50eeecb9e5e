package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Credential kinds and modes.
const (
	KindMiniProgram = "miniprogram"
	ModeTest        = "test"
	ModeLive        = "live"
)

// Hint describes a secret without revealing it.
type Hint struct {
	Set   bool      `json:"set"`
	Last4 string    `json:"last4,omitempty"`
	SetAt time.Time `json:"set_at"`
}

// MiniProgram is a tenant's Mini Program credentials for one mode.
type MiniProgram struct {
	Mode   string
	AppID  string
	Secret string // never serialised; callers pass it only to WeChat
}

func hintOf(secret string, at time.Time) Hint {
	h := Hint{Set: secret != "", SetAt: at}
	if len(secret) >= 8 {
		h.Last4 = secret[len(secret)-4:]
	}
	return h
}

// putCredential stores a credential set, sealing secrets with the tenant's
// data key. With replace=false an existing set is left as it is (idempotent
// provisioning). tx must be scoped to tenantID.
func (s *Service) putCredential(ctx context.Context, tx *gorm.DB, tenantID int64, mode, kind string,
	public map[string]string, secrets map[string]string, replace bool) error {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return err
	}
	sealed, err := s.keys.Seal(ctx, tx, tenantID, credentialPurpose(mode, kind), plain)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	hints := map[string]Hint{}
	for k, v := range secrets {
		hints[k] = hintOf(v, now)
	}
	conflict := "DO NOTHING"
	if replace {
		conflict = "DO UPDATE SET public = EXCLUDED.public, sealed = EXCLUDED.sealed, hints = EXCLUDED.hints, updated_at = now()"
	}
	return tx.WithContext(ctx).Exec(`INSERT INTO credentials (tenant_id, mode, kind, public, sealed, hints) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, mode, kind) `+conflict, tenantID, mode, kind, jsonString(public), sealed, jsonString(hints)).Error
}

// The purpose binds a ciphertext to its row's mode and kind.
func credentialPurpose(mode, kind string) string { return "credentials/" + mode + "/" + kind }

// MiniProgramCredentials returns the tenant's (in ctx) Mini Program
// credentials: live ones when set, else the sandbox ones.
func (s *Service) MiniProgramCredentials(ctx context.Context) (*MiniProgram, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "credentials")
	}
	var out *MiniProgram
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var rows []struct {
			Mode   string
			Public []byte
			Sealed []byte
		}
		if err := tx.Raw(`SELECT mode, public, sealed FROM credentials WHERE tenant_id = ? AND kind = ?
			ORDER BY mode = 'live' DESC LIMIT 1`, tid, KindMiniProgram).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errs.E(errs.Conflict, "not_provisioned", "this shop has no Mini Program credentials yet; it is still being set up")
		}
		r := rows[0]
		plain, err := s.keys.Open(ctx, tx, tid, credentialPurpose(r.Mode, KindMiniProgram), r.Sealed)
		if err != nil {
			return fmt.Errorf("opening credentials of tenant %d: %w", tid, err)
		}
		var pub, sec map[string]string
		if err := json.Unmarshal(r.Public, &pub); err != nil {
			return err
		}
		if err := json.Unmarshal(plain, &sec); err != nil {
			return err
		}
		out = &MiniProgram{Mode: r.Mode, AppID: pub["appid"], Secret: sec["secret"]}
		return nil
	})
	return out, err
}
