package shop

import "github.com/gin-gonic/gin"

// registerCatalogReads mounts the storefront catalog (placeholder).
func (h *Handler) registerCatalogReads(rg *gin.RouterGroup) {}
