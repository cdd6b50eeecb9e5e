package tenant

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/httpx"
)

// registerCredentials mounts the credentials vault under /tenants/:slug:
//
//	GET    /credentials                      every set, masked, and the tenant's mode
//	PUT    /credentials/{mode}/{kind}        validate and save a set → {tenant_mode, fields_changed, credential}
//	DELETE /credentials/{mode}/{kind}        remove a live set → {tenant_mode}
//	POST   /credentials/{mode}/{kind}/verify 202 {verification}; the worker checks the set
//
// Each (mode, kind) is a route of its own rather than a path parameter: the
// route table then lists exactly the sets that exist, each with its
// permission, and anything else is an unknown route.
func (h *Handler) registerCredentials(r Router) {
	r.GET("/credentials", "credentials:read", func(c *gin.Context) {
		o, err := h.Tenants.Credentials(c.Request.Context())
		ok(c, http.StatusOK, o, err)
	})
	for _, mode := range CredentialModes {
		for _, kind := range CredentialKinds {
			path := "/credentials/" + mode + "/" + kind
			r.PUT(path, "credentials:write", h.saveCredentials(mode, kind))
			r.DELETE(path, "credentials:write", func(c *gin.Context) {
				m, err := h.Tenants.DeleteCredentials(c.Request.Context(), mode, kind)
				ok(c, http.StatusOK, gin.H{"tenant_mode": m}, err)
			})
			r.POST(path+"/verify", "credentials:write", func(c *gin.Context) {
				v, err := h.Tenants.RequestVerification(c.Request.Context(), mode, kind)
				ok(c, http.StatusAccepted, gin.H{"verification": v}, err)
			})
		}
	}
}

func (h *Handler) saveCredentials(mode, kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		in, err := NewCredentialInput(kind)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		if !bind(c, in) {
			return
		}
		s, err := h.Tenants.SaveCredentials(c.Request.Context(), mode, kind, in)
		ok(c, http.StatusOK, s, err)
	}
}
