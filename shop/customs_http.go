package shop

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/tenant"
)

// registerCustomsAdmin mounts the customs view of an order and its
// re-declaration under /tenants/:slug.
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
	r.POST("/orders/:id/customs/redeclare", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.Redeclare(c.Request.Context(), id)
		respond(c, http.StatusAccepted, v, err)
	})
}
