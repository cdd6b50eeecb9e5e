package tenant

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
)

// HomeFigures are the counters of the console's home page. Figures the
// caller's role may not read (orders without orders:read, customers without
// customers:read) are null rather than refused, so every role gets a home.
type HomeFigures struct {
	Mode              string `json:"mode"`
	ProductsPublished int64  `json:"products_published"`
	ProductsDraft     int64  `json:"products_draft"`
	OrdersToday       *int64 `json:"orders_today"`
	PaidToday         *int64 `json:"paid_today"` // fen, CNY, paid since midnight in China
	Customers         *int64 `json:"customers"`
}

// homeDay is the business day of the home counters: brands sell to China.
const homeDay = `date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'`

// Home counts the figures of the tenant in ctx. orders and customers say
// whether the caller may see those figures.
func (s *Service) Home(ctx context.Context, slug string, orders, customers bool) (*HomeFigures, error) {
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	f := &HomeFigures{Mode: t.Mode}
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		var p struct{ Published, Draft int64 }
		if err := tx.Raw(`SELECT count(*) FILTER (WHERE status = 'published') AS published, count(*) FILTER (WHERE status = 'draft') AS draft
			FROM products WHERE tenant_id = ?`, t.ID).Scan(&p).Error; err != nil {
			return err
		}
		f.ProductsPublished, f.ProductsDraft = p.Published, p.Draft
		if orders {
			var o struct{ Today, Paid int64 }
			if err := tx.Raw(`SELECT count(*) FILTER (WHERE created_at >= `+homeDay+`) AS today,
				coalesce(sum(paid_fen) FILTER (WHERE paid_at >= `+homeDay+` AND currency = 'CNY'), 0) AS paid
				FROM orders WHERE tenant_id = ? AND (created_at >= `+homeDay+` OR paid_at >= `+homeDay+`)`, t.ID).Scan(&o).Error; err != nil {
				return err
			}
			f.OrdersToday, f.PaidToday = &o.Today, &o.Paid
		}
		if customers {
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM customers WHERE tenant_id = ?`, t.ID).Scan(&n).Error; err != nil {
				return err
			}
			f.Customers = &n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// allows reports whether the caller of an admin route (already let in by the
// guard) also holds perm in the tenant of the request.
func (h *Handler) allows(c *gin.Context, perm string) bool {
	p, t := PrincipalOf(c), Current(c)
	if p == nil || t == nil {
		return false
	}
	if p.TokenID != 0 {
		return h.Authz.RoleAllows(p.TokenRole, perm)
	}
	return h.Authz.Allowed(t.ID, perm, p.Subjects()...)
}

// RegisterHome mounts GET /tenants/:slug/home.
func (h *Handler) RegisterHome(r Router) {
	r.GET("/home", "shop:read", func(c *gin.Context) {
		f, err := h.Tenants.Home(c.Request.Context(), c.Param("slug"), h.allows(c, "orders:read"), h.allows(c, "customers:read"))
		ok(c, http.StatusOK, f, err)
	})
}
