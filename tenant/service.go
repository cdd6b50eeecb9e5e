package tenant

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/vault"
)

// TaskProvision is the task that sets up a new tenant's defaults.
const TaskProvision = "tenant.provisioned"

// Actor is who performs a change; services read it from the context.
type Actor = scope.Actor

// System is the actor of background work.
var System = scope.System

// Service manages tenants. Its methods are safe for concurrent use.
type Service struct {
	db         *gorm.DB
	keys       *vault.Keyring
	resolver   *Resolver
	sandboxURL string
	log        *slog.Logger
}

// NewService wires a Service. resolver is told about every change that
// affects Host resolution.
func NewService(g *gorm.DB, keys *vault.Keyring, resolver *Resolver, sandboxURL string, log *slog.Logger) *Service {
	return &Service{db: g, keys: keys, resolver: resolver, sandboxURL: strings.TrimRight(sandboxURL, "/"), log: log}
}

// CreateInput is what it takes to create a tenant.
type CreateInput struct {
	Slug string `json:"slug" binding:"required"`
	Name string `json:"name" binding:"required"`
}

// Create creates a tenant with its shop profile and schedules its
// provisioning, all in one transaction. A taken slug is a conflict.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Tenant, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	if err := ValidateSlug(in.Slug); err != nil {
		return nil, err
	}
	if err := ValidateName(in.Name); err != nil {
		return nil, err
	}
	var t Tenant
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO tenants (slug, name) VALUES (?, ?) RETURNING *`, in.Slug, in.Name).Scan(&t).Error; err != nil {
			if db.IsUniqueViolation(err, "") {
				return errs.E(errs.Conflict, "slug_taken", "the slug "+in.Slug+" is already taken").WithDetails(map[string]string{"field": "slug"})
			}
			return err
		}
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", fmt.Sprint(t.ID)).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO shops (tenant_id) VALUES (?)`, t.ID).Error; err != nil {
			return err
		}
		if err := audit(ctx, tx, t.ID, "tenant.created", "tenant:"+in.Slug, map[string]any{"slug": t.Slug, "name": t.Name}); err != nil {
			return err
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskProvision, Queue: outbox.QueueCritical, TenantID: t.ID})
	})
	if err != nil {
		return nil, err
	}
	s.resolver.Changed(ctx, slugKey(t.Slug))
	return &t, nil
}

// Get returns the tenant with slug, or not_found.
func (s *Service) Get(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := s.db.WithContext(ctx).Raw(`SELECT * FROM tenants WHERE slug = ?`, strings.ToLower(slug)).Take(&t).Error
	if err != nil {
		return nil, db.NotFound(err, "tenant_not_found", "no tenant with slug "+slug)
	}
	return &t, nil
}

// ListInput pages through tenants by id.
type ListInput struct {
	After int64 // id of the last tenant of the previous page
	Limit int   // 1..200, default 50
}

// List returns up to Limit tenants after After, ordered by id, and the cursor
// of the next page (0 when there is none).
func (s *Service) List(ctx context.Context, in ListInput) ([]Tenant, int64, error) {
	if in.Limit <= 0 {
		in.Limit = 50
	}
	if in.Limit > 200 {
		return nil, 0, errs.E(errs.Invalid, "invalid_limit", "limit must be at most 200")
	}
	var ts []Tenant
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM tenants WHERE id > ? ORDER BY id LIMIT ?`, in.After, in.Limit+1).Scan(&ts).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ts) > in.Limit {
		ts = ts[:in.Limit]
		next = ts[len(ts)-1].ID
	}
	return ts, next, nil
}

// SetStatus suspends or resumes a tenant. It takes effect on every server
// process at once (the resolver broadcasts the change). Setting the status it
// already has is not an error.
func (s *Service) SetStatus(ctx context.Context, slug string, st Status) (*Tenant, error) {
	if st != Active && st != Suspended {
		return nil, errs.E(errs.Invalid, "invalid_status", "status must be active or suspended")
	}
	var t Tenant
	var domains []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT * FROM tenants WHERE slug = ? FOR UPDATE`, strings.ToLower(slug)).Take(&t).Error; err != nil {
			return db.NotFound(err, "tenant_not_found", "no tenant with slug "+slug)
		}
		if t.Status == st {
			return nil
		}
		if err := tx.Raw(`UPDATE tenants SET status = ?, updated_at = now() WHERE id = ? RETURNING *`, st, t.ID).Scan(&t).Error; err != nil {
			return err
		}
		if err := tx.Raw(`SELECT domain FROM tenant_domains WHERE tenant_id = ?`, t.ID).Scan(&domains).Error; err != nil {
			return err
		}
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", fmt.Sprint(t.ID)).Error; err != nil {
			return err
		}
		action := "tenant.suspended"
		if st == Active {
			action = "tenant.resumed"
		}
		return audit(ctx, tx, t.ID, action, "tenant:"+t.Slug, map[string]any{"status": st})
	})
	if err != nil {
		return nil, err
	}
	keys := []string{slugKey(t.Slug)}
	for _, d := range domains {
		keys = append(keys, domainKey(d))
	}
	s.resolver.Changed(ctx, keys...)
	return &t, nil
}

// Domain is a custom domain of a tenant.
type Domain struct {
	Domain            string     `json:"domain"`
	VerificationToken string     `json:"verification_token"`
	VerifiedAt        *time.Time `json:"verified_at"`
	CreatedAt         time.Time  `json:"created_at"`
}

// AddDomain stores a custom domain for the tenant. It routes to the tenant
// only once verified; verified=true is for operators who checked ownership
// out of band. A domain belonging to another tenant is a conflict.
func (s *Service) AddDomain(ctx context.Context, slug, domain string, verified bool) (*Domain, error) {
	d, err := normalizeHost(domain)
	if err != nil || !strings.Contains(d, ".") {
		return nil, errs.E(errs.Invalid, "invalid_domain", "domain must be a host name such as shop.example.com").WithDetails(map[string]string{"field": "domain"})
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	if s.resolver.base != "" && (d == s.resolver.base || strings.HasSuffix(d, "."+s.resolver.base)) {
		return nil, errs.E(errs.Invalid, "invalid_domain", "a custom domain cannot be under the platform's own domain "+s.resolver.base)
	}
	var out Domain
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var verifiedAt any
		if verified {
			verifiedAt = time.Now().UTC()
		}
		res := tx.Raw(`INSERT INTO tenant_domains (domain, tenant_id, verification_token, verified_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (domain) DO UPDATE SET verified_at = COALESCE(tenant_domains.verified_at, EXCLUDED.verified_at)
			WHERE tenant_domains.tenant_id = EXCLUDED.tenant_id
			RETURNING domain, verification_token, verified_at, created_at`, d, t.ID, "minishop-verify="+randomHex(16), verifiedAt).Scan(&out)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.Conflict, "domain_taken", "the domain "+d+" belongs to another shop")
		}
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", fmt.Sprint(t.ID)).Error; err != nil {
			return err
		}
		return audit(ctx, tx, t.ID, "tenant.domain_added", "domain:"+d, map[string]any{"domain": d, "verified": out.VerifiedAt != nil})
	})
	if err != nil {
		return nil, err
	}
	s.resolver.Changed(ctx, domainKey(d))
	return &out, nil
}

// Shop returns the public shop profile of the tenant in ctx.
func (s *Service) Shop(ctx context.Context) (*Shop, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "shop profile")
	}
	var out Shop
	err := db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var row struct {
			Slug, Name, Currency, DefaultLocale string
			LogoURL                             *string
			Locales                             string
			Mode                                string
		}
		err := tx.Raw(`SELECT t.slug, t.name, t.mode, s.logo_url, s.currency, s.default_locale, array_to_string(s.locales, ',') AS locales
			FROM shops s JOIN tenants t ON t.id = s.tenant_id WHERE s.tenant_id = ?`, tid).Take(&row).Error
		if err != nil {
			return db.NotFound(err, "shop_not_found", "this shop has no profile yet")
		}
		out = Shop{Slug: row.Slug, Name: row.Name, LogoURL: row.LogoURL, Currency: row.Currency,
			DefaultLocale: row.DefaultLocale, Locales: strings.Split(row.Locales, ","), Mode: row.Mode}
		return nil
	})
	return &out, err
}

// audit appends to the tenant's audit log. tx must be scoped to tenantID.
func audit(ctx context.Context, tx *gorm.DB, tenantID int64, action, object string, data map[string]any) error {
	by := scope.ActorOf(ctx)
	markAudited(ctx)
	var ip any
	if by.IP != "" {
		ip = by.IP
	}
	return tx.WithContext(ctx).Exec(`INSERT INTO audit_log (tenant_id, actor_kind, actor_id, action, object, data, ip, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, by.Kind, by.ID, action, object, jsonString(data), ip, scope.RequestID(ctx)).Error
}

// Audit appends to the audit log of the tenant in ctx, inside tx (which must
// be scoped to that tenant), on behalf of the actor in ctx. Other features
// call it in the transaction of their change, so the entry and the change
// commit together. data must not hold secrets.
func Audit(ctx context.Context, tx *gorm.DB, action, object string, data map[string]any) error {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return errs.Wrap(db.ErrNoTenant, "audit")
	}
	return audit(ctx, tx, tid, action, object, data)
}
