package shop

import "github.com/minishop/minishop/tenant"

// registerCatalogAdmin mounts catalog administration (placeholder).
func (h *Handler) registerCatalogAdmin(r tenant.Router) {}
