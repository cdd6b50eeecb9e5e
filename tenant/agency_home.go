package tenant

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// maxClients bounds an agency's client list (one page; an agency with more
// approved shops sees the first ones by name).
const maxClients = 500

// SetResolver lets the agency side name shops by their storefront address
// ({slug}.{base} or a verified custom domain), as brands paste it.
func (t *Team) SetResolver(r *Resolver) { t.hosts = r }

// ClientShop is a shop an agency may work on, as the agency's home lists it.
type ClientShop struct {
	Slug              string     `json:"slug"`
	Name              string     `json:"name"`
	Status            string     `json:"status"`
	Mode              string     `json:"mode"`
	Role              string     `json:"role"` // the role the brand granted the agency
	StorefrontHost    string     `json:"storefront_host"`
	LogoURL           *string    `json:"logo_url"`   // an http(s) address set by the brand, or null
	LogoImage         *string    `json:"logo_image"` // hash of an uploaded logo (GET …/tenants/{slug}/images/{hash}), or null
	ProductsPublished int64      `json:"products_published"`
	OrdersToday       *int64     `json:"orders_today"` // since midnight in China; null when the role may not read orders
	ApprovedAt        *time.Time `json:"approved_at"`
}

// Clients lists the shops agency id is approved for, with a few figures of
// each, for any of its staff (others: agency_not_found). Only approved
// access counts: a pending, declined or revoked shop is not listed.
func (t *Team) Clients(ctx context.Context, p *Principal, id int64) ([]ClientShop, error) {
	if _, err := agencyRole(p, id); err != nil {
		return nil, err
	}
	var rows []struct {
		ID                       int64
		Slug, Name, Status, Mode string
		Role                     string
		DecidedAt                *time.Time
	}
	q := t.db.WithContext(ctx)
	if err := q.Raw(`SELECT t.id, t.slug, t.name, t.status, t.mode, x.role, x.decided_at
		FROM agency_access x JOIN tenants t ON t.id = x.tenant_id
		WHERE x.agency_id = ? AND x.status = 'approved' ORDER BY t.name, t.id LIMIT ?`, id, maxClients).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]ClientShop, 0, len(rows))
	// The figures live in each shop's rows, behind row-level security: one
	// transaction scoped to each shop in turn (set_config is local to the
	// transaction), every query naming that shop too.
	err := q.Transaction(func(tx *gorm.DB) error {
		for _, r := range rows {
			if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", strconv.FormatInt(r.ID, 10)).Error; err != nil {
				return err
			}
			var f struct {
				LogoURL, LogoImage *string
				Published, Orders  int64
			}
			if err := tx.Raw(`SELECT (SELECT logo_url FROM shops WHERE tenant_id = ?) AS logo_url,
				(SELECT logo_image FROM shops WHERE tenant_id = ?) AS logo_image,
				(SELECT count(*) FROM products WHERE tenant_id = ? AND status = 'published') AS published,
				(SELECT count(*) FROM orders WHERE tenant_id = ? AND created_at >= `+homeDay+`) AS orders`,
				r.ID, r.ID, r.ID, r.ID).Scan(&f).Error; err != nil {
				return err
			}
			c := ClientShop{Slug: r.Slug, Name: r.Name, Status: r.Status, Mode: r.Mode, Role: r.Role, StorefrontHost: t.storefrontHost(r.Slug),
				LogoImage: f.LogoImage, ProductsPublished: f.Published, ApprovedAt: r.DecidedAt}
			if f.LogoImage == nil && f.LogoURL != nil && (strings.HasPrefix(*f.LogoURL, "https://") || strings.HasPrefix(*f.LogoURL, "http://")) {
				c.LogoURL = f.LogoURL
			}
			if t.authz.RoleAllows(r.Role, "orders:read") {
				n := f.Orders
				c.OrdersToday = &n
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func (t *Team) storefrontHost(slug string) string {
	if t.hosts == nil || t.hosts.base == "" {
		return slug
	}
	return slug + "." + t.hosts.base
}

// AgencyInvitations lists agency id's pending invitations, for any of its
// staff (others: agency_not_found).
func (t *Team) AgencyInvitations(ctx context.Context, p *Principal, id int64) ([]Invitation, error) {
	if _, err := agencyRole(p, id); err != nil {
		return nil, err
	}
	out := []Invitation{}
	err := t.db.WithContext(ctx).Raw(`SELECT id, email, role, created_at, expires_at, accepted_at FROM invitations
		WHERE agency_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() ORDER BY id DESC LIMIT 500`, id).Scan(&out).Error
	return out, err
}

// RevokeAgencyInvitation cancels a pending invitation of agency id (its
// admins only). An invitation of another agency, or one no longer pending,
// is invitation_not_found.
func (t *Team) RevokeAgencyInvitation(ctx context.Context, p *Principal, id, invitationID int64) error {
	if err := requireAgencyAdmin(p, id); err != nil {
		return err
	}
	res := t.db.WithContext(ctx).Exec(`UPDATE invitations SET revoked_at = now()
		WHERE id = ? AND agency_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, invitationID, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.NotFound, "invitation_not_found", "no such pending invitation")
	}
	return nil
}

// shopAt finds the active shop an agency names: its slug ("nordic-skin"),
// its storefront address as pasted ("nordic-skin.{base}", with or without
// https:// and a path), a verified custom domain, or a console link
// (".../admin/s/nordic-skin/..."). Unknown: tenant_not_found naming the
// field; malformed: invalid_tenant.
func (t *Team) shopAt(ctx context.Context, address string) (id int64, name string, err error) {
	shown := strings.TrimSpace(address)
	unknown := errs.E(errs.NotFound, "tenant_not_found", "no shop has the ID or address "+strconv.Quote(shown)+"; check it with the brand").
		WithZH("没有 ID 或地址为“" + shown + "”的店铺，请向品牌核实").WithDetails(map[string]string{"field": "tenant"})
	if shown == "" || len(shown) > 300 {
		return 0, "", errs.E(errs.Invalid, "invalid_tenant", "give the brand's shop ID (such as nordic-skin) or its shop address, at most 300 characters").
			WithZH("请填写品牌的店铺 ID（如 nordic-skin）或店铺地址，最多 300 个字符").WithDetails(map[string]string{"field": "tenant"})
	}
	s := strings.ToLower(shown)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if _, rest, ok := strings.Cut(s, "/admin/s/"); ok {
		s, _, _ = strings.Cut(rest, "/")
	} else if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(s, ".")
	var row struct {
		ID           int64
		Name, Status string
	}
	if !strings.Contains(s, ".") {
		if len(s) > 40 || !slugPattern.MatchString(s) {
			return 0, "", unknown
		}
		if err := t.db.WithContext(ctx).Raw(`SELECT id, name, status FROM tenants WHERE slug = ?`, s).Scan(&row).Error; err != nil {
			return 0, "", err
		}
	} else {
		if t.hosts == nil {
			return 0, "", unknown
		}
		tn, err := t.hosts.Resolve(ctx, s)
		if err != nil {
			if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
				return 0, "", unknown
			}
			return 0, "", err
		}
		row.ID, row.Name, row.Status = tn.ID, tn.Name, string(tn.Status)
	}
	if row.ID == 0 || row.Status != string(Active) {
		return 0, "", unknown
	}
	return row.ID, row.Name, nil
}

// registerAgencyHome mounts the agency home's reads and the invitation
// revocation under /agencies/{agency_id}:
//
//	GET    /clients           → {"clients": [ClientShop]}
//	GET    /invitations       → {"invitations": [Invitation]}
//	DELETE /invitations/:id   → 204
//
// and the changes to its staff (registerAgencyMembers).
func (h *Handler) registerAgencyHome(r Router) {
	ag := r.Group("/agencies/:agency_id")
	ag.GET("/clients", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		cs, err := h.Team.Clients(c.Request.Context(), PrincipalOf(c), id)
		ok(c, http.StatusOK, gin.H{"clients": cs}, err)
	})
	ag.GET("/invitations", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		is, err := h.Team.AgencyInvitations(c.Request.Context(), PrincipalOf(c), id)
		ok(c, http.StatusOK, gin.H{"invitations": is}, err)
	})
	ag.DELETE("/invitations/:id", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		inv, valid := pathID(c, "id")
		if !valid {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Team.RevokeAgencyInvitation(c.Request.Context(), PrincipalOf(c), id, inv))
	})
	h.registerAgencyMembers(r)
}
