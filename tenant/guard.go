package tenant

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
)

// Special permissions of routes that need no tenant role.
const (
	PermPublic   = "public"    // anyone (sign-in, accepting an invitation)
	PermSignedIn = "signed_in" // any signed-in user, no tenant
	PermPlatform = "platform"  // platform operators only
)

const ctxPrincipal = "minishop.principal"

// PrincipalOf returns who makes the request (nil when nobody signed in).
func PrincipalOf(c *gin.Context) *Principal {
	p, _ := c.Get(ctxPrincipal)
	pp, _ := p.(*Principal)
	return pp
}

// Guard authenticates admin requests and checks each route's declared
// permission before its handler runs.
type Guard struct {
	accounts *Accounts
	svc      *Service
	authz    *Authorizer
	resolver *Resolver

	mu    sync.Mutex
	perms map[string]string // "METHOD /full/path" → permission
}

// NewGuard wires a Guard.
func NewGuard(accounts *Accounts, svc *Service, authz *Authorizer, resolver *Resolver) *Guard {
	return &Guard{accounts: accounts, svc: svc, authz: authz, resolver: resolver, perms: map[string]string{}}
}

// Permissions returns every declared route and its permission, for tests
// that check that no admin route lacks one.
func (g *Guard) Permissions() map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]string, len(g.perms))
	for k, v := range g.perms {
		out[k] = v
	}
	return out
}

// Authenticate finds the principal from a Bearer token or the session
// cookie. It never refuses: routes decide (Require). A malformed or dead
// credential counts as none.
func (g *Guard) Authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		var p *Principal
		var err error
		if h := c.GetHeader("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				httpx.Error(c, errs.E(errs.Unauthorized, "invalid_token", "use Authorization: Bearer <token>"))
				return
			}
			if p, err = g.svc.TokenPrincipal(ctx, strings.TrimSpace(tok)); err != nil {
				httpx.Error(c, err)
				return
			}
		} else if ck, cerr := c.Cookie(SessionCookie); cerr == nil && ck != "" {
			p, err = g.accounts.SessionPrincipal(ctx, ck)
			if err != nil && !errs.Is(err, errs.Unauthorized) {
				httpx.Error(c, err)
				return
			}
		}
		if p != nil {
			c.Set(ctxPrincipal, p)
			c.Request = c.Request.WithContext(scope.WithActor(ctx, p.Actor(c.ClientIP())))
		}
		c.Next()
	}
}

// require checks perm for the request. Tenant permissions need the tenant
// in the path (":slug"): a principal with no role there gets 404, as if the
// shop did not exist; one whose role lacks perm gets 403.
func (g *Guard) require(perm string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if perm == PermPublic {
			c.Next()
			return
		}
		p := PrincipalOf(c)
		if p == nil {
			httpx.Error(c, errs.E(errs.Unauthorized, "unauthorized", "sign in to continue"))
			return
		}
		switch perm {
		case PermSignedIn:
			if p.TokenID != 0 {
				httpx.Error(c, errs.E(errs.Forbidden, "forbidden", "API tokens can only be used on their shop's endpoints"))
				return
			}
			c.Next()
			return
		case PermPlatform:
			if !p.Operator || p.TokenID != 0 {
				httpx.Error(c, errs.E(errs.Forbidden, "forbidden", "only platform operators may do this"))
				return
			}
			c.Next()
			return
		}
		t, err := g.resolver.BySlug(c.Request.Context(), c.Param("slug"))
		if err != nil {
			httpx.Error(c, err)
			return
		}
		notFound := errs.E(errs.NotFound, "tenant_not_found", "no tenant with slug "+c.Param("slug"))
		if p.TokenID != 0 {
			if p.TokenTenant != t.ID {
				httpx.Error(c, notFound)
				return
			}
			if !g.authz.RoleAllows(p.TokenRole, perm) {
				httpx.Error(c, errs.E(errs.Forbidden, "forbidden", "this token's role ("+p.TokenRole+") does not allow "+perm))
				return
			}
		} else {
			subs := p.Subjects()
			if !g.authz.Allowed(t.ID, perm, subs...) {
				if !g.hasAnyRole(t.ID, subs) {
					httpx.Error(c, notFound)
					return
				}
				httpx.Error(c, errs.E(errs.Forbidden, "forbidden", "your role in this shop does not allow "+perm))
				return
			}
		}
		// A suspended shop stays visible to its staff (so the console can say
		// why) but nothing in it can be changed or read in detail.
		if t.Status == Suspended && !(c.Request.Method == http.MethodGet && strings.HasSuffix(c.FullPath(), "/tenants/:slug")) {
			httpx.Error(c, errs.E(errs.Forbidden, "tenant_suspended", "this shop is suspended by the platform; contact support"))
			return
		}
		enter(c, t)
		g.audited(c)
	}
}

func (g *Guard) hasAnyRole(tenantID int64, subjects []string) bool {
	for _, s := range subjects {
		if len(g.authz.Roles(s, tenantID)) > 0 {
			return true
		}
	}
	return false
}

type auditMark struct{ written bool }
type auditKey struct{}

func markAudited(ctx context.Context) {
	if m, ok := ctx.Value(auditKey{}).(*auditMark); ok {
		m.written = true
	}
}

// audited runs the handler and, when it changed something (a successful
// non-GET) without writing its own audit entry, writes a generic one naming
// the route, so no state-changing admin request goes unrecorded.
func (g *Guard) audited(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	m := &auditMark{}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), auditKey{}, m))
	c.Next()
	if m.written || c.Writer.Status() >= 400 {
		return
	}
	ctx := context.WithoutCancel(c.Request.Context())
	err := db.InTenant(ctx, g.svc.db, func(tx *gorm.DB) error {
		tid, _ := scope.TenantID(ctx)
		return audit(ctx, tx, tid, strings.ToLower(c.Request.Method)+" "+c.FullPath(), c.Request.URL.Path, nil)
	})
	if err != nil {
		g.svc.log.Error("audit entry lost", "route", c.FullPath(), "err", err)
	}
}

// Router declares admin routes with their permission; the permission check
// runs before the handler. Every admin route goes through it, and a test
// checks that none is missing.
type Router struct {
	g     *Guard
	group *gin.RouterGroup
}

// Router returns a Router over group.
func (g *Guard) Router(group *gin.RouterGroup) Router { return Router{g: g, group: group} }

// Group returns a sub-router at path.
func (r Router) Group(path string) Router { return Router{g: r.g, group: r.group.Group(path)} }

// Handle adds a route requiring perm.
func (r Router) Handle(method, path, perm string, h gin.HandlerFunc) {
	full := strings.TrimSuffix(r.group.BasePath()+"/"+strings.TrimPrefix(path, "/"), "/")
	if path == "" {
		full = r.group.BasePath()
	}
	r.g.mu.Lock()
	r.g.perms[method+" "+full] = perm
	r.g.mu.Unlock()
	r.group.Handle(method, path, r.g.require(perm), h)
}

// GET, POST, PUT, PATCH and DELETE add routes requiring perm.
func (r Router) GET(path, perm string, h gin.HandlerFunc)  { r.Handle(http.MethodGet, path, perm, h) }
func (r Router) POST(path, perm string, h gin.HandlerFunc) { r.Handle(http.MethodPost, path, perm, h) }
func (r Router) PUT(path, perm string, h gin.HandlerFunc)  { r.Handle(http.MethodPut, path, perm, h) }
func (r Router) PATCH(path, perm string, h gin.HandlerFunc) {
	r.Handle(http.MethodPatch, path, perm, h)
}
func (r Router) DELETE(path, perm string, h gin.HandlerFunc) {
	r.Handle(http.MethodDelete, path, perm, h)
}
