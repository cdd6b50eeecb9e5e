package tenant

import (
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
