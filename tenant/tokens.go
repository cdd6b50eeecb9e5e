package tenant

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Token is an API token of a brand's own systems (ERP, PIM), scoped to one
// tenant and one role. Its secret is shown once, at creation.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Last4      string     `json:"last4"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Secret     string     `json:"token,omitempty" gorm:"-"` // only in the creation response
}

// TokenInput creates a token.
type TokenInput struct {
	Name      string     `json:"name" binding:"required"`
	Role      string     `json:"role" binding:"required"`
	ExpiresAt *time.Time `json:"expires_at"`
}

const tokenPrefix = "mst_"

// CreateToken creates an API token in the tenant of ctx. Owners cannot be
// tokens: a token gets at most admin.
func (s *Service) CreateToken(ctx context.Context, in TokenInput, createdBy int64) (*Token, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "tokens")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 80 {
		return nil, errs.E(errs.Invalid, "invalid_name", "name the token (1 to 80 characters), e.g. \"ERP sync\"")
	}
	if !ValidRole(in.Role) || in.Role == RoleOwner {
		return nil, errs.E(errs.Invalid, "invalid_role", "role must be one of admin, catalog_manager, order_manager, finance, viewer")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		return nil, errs.E(errs.Invalid, "invalid_expiry", "expires_at must be in the future")
	}
	secret, _ := newSecret(32)
	plain := tokenPrefix + strconv.FormatInt(tid, 10) + "_" + secret
	var t Token
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var by any
		if createdBy > 0 {
			by = createdBy
		}
		if err := tx.Raw(`INSERT INTO api_tokens (tenant_id, name, role, token_hash, last4, created_by, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, name, role, last4, created_at, expires_at`,
			tid, in.Name, in.Role, db.Bytes(secretHash(plain)), plain[len(plain)-4:], by, in.ExpiresAt).Scan(&t).Error; err != nil {
			return err
		}
		return audit(ctx, tx, tid, "token.created", "token:"+strconv.FormatInt(t.ID, 10), map[string]any{"name": t.Name, "role": t.Role})
	})
	t.Secret = plain
	return &t, err
}

// Tokens lists the tenant's tokens (without secrets).
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	tid, _ := scope.TenantID(ctx)
	out := []Token{}
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, name, role, last4, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
			WHERE tenant_id = ? ORDER BY id DESC LIMIT 500`, tid).Scan(&out).Error
	})
	return out, err
}

// RevokeToken revokes a token of the tenant in ctx; another tenant's token id is not_found.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	tid, _ := scope.TenantID(ctx)
	return db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = ? AND id = ?`, tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "token_not_found", "no such token")
		}
		return audit(ctx, tx, tid, "token.revoked", "token:"+strconv.FormatInt(id, 10), nil)
	})
}

// TokenPrincipal returns the principal of a bearer token, or unauthorized.
func (s *Service) TokenPrincipal(ctx context.Context, plain string) (*Principal, error) {
	bad := errs.E(errs.Unauthorized, "invalid_token", "the API token is not valid, expired or revoked")
	rest, ok := strings.CutPrefix(plain, tokenPrefix)
	if !ok || len(plain) > 200 {
		return nil, bad
	}
	tidStr, _, _ := strings.Cut(rest, "_")
	tid, err := strconv.ParseInt(tidStr, 10, 64)
	if err != nil || tid <= 0 {
		return nil, bad
	}
	var row struct {
		ID         int64
		Role       string
		LastUsedAt *time.Time
	}
	err = db.InTenant(scope.WithTenant(ctx, tid), s.db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, role, last_used_at FROM api_tokens WHERE tenant_id = ? AND token_hash = ?
			AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, tid, secretHash(plain)).Scan(&row).Error
	})
	if err != nil {
		return nil, err
	}
	if row.ID == 0 {
		return nil, bad
	}
	if row.LastUsedAt == nil || time.Since(*row.LastUsedAt) > time.Minute {
		_ = db.InTenant(scope.WithTenant(ctx, tid), s.db, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE api_tokens SET last_used_at = now() WHERE tenant_id = ? AND id = ?`, tid, row.ID).Error
		})
	}
	return &Principal{TokenID: row.ID, TokenTenant: tid, TokenRole: row.Role}, nil
}
