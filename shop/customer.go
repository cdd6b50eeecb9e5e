package shop

import "github.com/gin-gonic/gin"

// registerCustomer mounts customer login and account routes (placeholder).
func (h *Handler) registerCustomer(rg *gin.RouterGroup) {}
