package shop

import (
	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/tenant"
)

// Handler serves the shop's HTTP routes.
type Handler struct {
	S *Service
}

// RegisterStorefront mounts the Mini Program routes on rg, whose tenant is
// already resolved from the Host.
func (h *Handler) RegisterStorefront(rg *gin.RouterGroup) {
	h.registerCatalogReads(rg)
	h.registerCustomer(rg)
	h.registerOrders(rg)
	h.registerMyShipments(rg)
}

// RegisterAdmin mounts the catalog administration under /tenants/:slug.
func (h *Handler) RegisterAdmin(r tenant.Router) {
	h.registerCatalogAdmin(r)
	h.registerCatalogImport(r)
	h.registerOrderAdmin(r)
	h.registerRefundAdmin(r)
	h.registerCustomsAdmin(r)
	h.registerLogisticsAdmin(r)
	h.registerCustomsPaymentAdmin(r)
}
