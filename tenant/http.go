package tenant

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
)

const ctxTenant = "minishop.tenant"

// Current returns the tenant that middleware resolved for this request.
func Current(c *gin.Context) *Tenant {
	t, _ := c.Get(ctxTenant)
	tt, _ := t.(*Tenant)
	return tt
}

func enter(c *gin.Context, t *Tenant) {
	c.Set(ctxTenant, t)
	c.Request = c.Request.WithContext(scope.WithTenant(c.Request.Context(), t.ID))
}

// Storefront is the middleware of the Mini Program API: it resolves the
// tenant from the Host (port ignored, case-insensitive, custom domains too).
// Unknown host → 404 tenant_not_found; suspended → 403 tenant_suspended.
func (r *Resolver) Storefront() gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := r.Resolve(c.Request.Context(), c.Request.Host)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		if t.Status == Suspended {
			httpx.Error(c, errs.E(errs.Forbidden, "tenant_suspended", "this shop is temporarily unavailable"))
			return
		}
		enter(c, t)
		c.Next()
	}
}

// Admin is the middleware of /api/admin/v1/tenants/:slug/...: it scopes the
// request to the tenant in the path. Access control runs after it; an unknown
// slug is 404 whoever asks. Suspended tenants stay reachable for their staff.
func (r *Resolver) Admin() gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := r.BySlug(c.Request.Context(), c.Param("slug"))
		if err != nil {
			httpx.Error(c, err)
			return
		}
		enter(c, t)
		c.Next()
	}
}

// Handler serves the tenant routes.
type Handler struct {
	svc *Service
}

// NewHandler returns the HTTP handlers over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// RegisterStorefront mounts the storefront routes (tenant already resolved).
func (h *Handler) RegisterStorefront(rg *gin.RouterGroup) {
	rg.GET("/shop", h.shop)
}

// RegisterAdmin mounts the per-tenant admin routes under /tenants/:slug.
func (h *Handler) RegisterAdmin(rg *gin.RouterGroup) {
	rg.GET("", h.get)
}

// RegisterPlatform mounts the operator routes.
func (h *Handler) RegisterPlatform(rg *gin.RouterGroup) {
	rg.GET("/tenants", h.list)
	rg.POST("/tenants", h.create)
	rg.GET("/tenants/:slug", h.get)
	rg.POST("/tenants/:slug/suspend", h.setStatus(Suspended))
	rg.POST("/tenants/:slug/resume", h.setStatus(Active))
	rg.POST("/tenants/:slug/domains", h.addDomain)
}

func (h *Handler) shop(c *gin.Context) {
	s, err := h.svc.Shop(c.Request.Context())
	if err != nil {
		httpx.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

func (h *Handler) get(c *gin.Context) {
	t, err := h.svc.Get(c.Request.Context(), c.Param("slug"))
	if err != nil {
		httpx.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (h *Handler) create(c *gin.Context) {
	var in CreateInput
	if err := httpx.Bind(c, &in); err != nil {
		httpx.Error(c, err)
		return
	}
	t, err := h.svc.Create(c.Request.Context(), in)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (h *Handler) list(c *gin.Context) {
	var in ListInput
	var err error
	if v := c.Query("after"); v != "" {
		if in.After, err = strconv.ParseInt(v, 10, 64); err != nil || in.After < 0 {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_cursor", "after must be a tenant id from a previous page"))
			return
		}
	}
	if v := c.Query("limit"); v != "" {
		if in.Limit, err = strconv.Atoi(v); err != nil || in.Limit < 1 {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be a number from 1 to 200"))
			return
		}
	}
	ts, next, err := h.svc.List(c.Request.Context(), in)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	page := gin.H{"tenants": ts, "next_after": nil}
	if next > 0 {
		page["next_after"] = next
	}
	c.JSON(http.StatusOK, page)
}

func (h *Handler) setStatus(st Status) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := h.svc.SetStatus(c.Request.Context(), c.Param("slug"), st)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		c.JSON(http.StatusOK, t)
	}
}

type domainInput struct {
	Domain   string `json:"domain" binding:"required"`
	Verified bool   `json:"verified"`
}

func (h *Handler) addDomain(c *gin.Context) {
	var in domainInput
	if err := httpx.Bind(c, &in); err != nil {
		httpx.Error(c, err)
		return
	}
	d, err := h.svc.AddDomain(c.Request.Context(), c.Param("slug"), in.Domain, in.Verified)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}
