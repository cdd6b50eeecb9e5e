package shop

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"

	"github.com/minishop/minishop/tenant"
)

// registerCustomsAdmin mounts the customs view of an order, its
// re-declaration (of one customs order of a split order with
// ?order_no=) and the queue of orders that need a person under
// /tenants/:slug.
func (h *Handler) registerCustomsAdmin(r tenant.Router) {
	s := h.S
	r.GET("/orders/:id/customs", "orders:read", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.Customs(c.Request.Context(), id)
		respond(c, http.StatusOK, v, err)
	})
	r.GET("/customs/queue", "orders:read", func(c *gin.Context) {
		limit, err := queryLimit(c)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		items, next, err := s.CustomsQueue(c.Request.Context(), c.Query("cursor"), limit)
		page := gin.H{"orders": items, "next_cursor": nil}
		if next != "" {
			page["next_cursor"] = next
		}
		respond(c, http.StatusOK, page, err)
	})
	r.POST("/orders/:id/customs/redeclare", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		no := c.Query("order_no")
		if len(no) > 60 || (c.Request.URL.Query().Has("order_no") && no == "") {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_order_no", "order_no is the number of one of the order's customs orders (at most 60 characters)"))
			return
		}
		v, err := s.Redeclare(c.Request.Context(), id, no)
		respond(c, http.StatusAccepted, v, err)
	})
}
