package shop

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// registerLogisticsAdmin mounts shipments, the tracking-number import, the
// logistics alerts and the warehouse webhook settings under /tenants/:slug.
func (h *Handler) registerLogisticsAdmin(r tenant.Router) {
	s := h.S
	r.GET("/orders/:id/shipments", "orders:read", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.Shipments(c.Request.Context(), id)
		respond(c, http.StatusOK, v, err)
	})
	r.POST("/orders/:id/shipments", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		var in ShipmentInput
		if !ok || !bindJSON(c, &in) {
			return
		}
		sh, created, err := s.CreateShipment(c.Request.Context(), id, in, ShipFromAdmin)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		respond(c, status, sh, err)
	})
	r.POST("/orders/:id/shipments/retry-upload", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		v, err := s.RetryShippingUpload(c.Request.Context(), id)
		respond(c, http.StatusAccepted, v, err)
	})
	r.POST("/shipments/import", "orders:write", func(c *gin.Context) {
		if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "text/csv" {
			httpx.Error(c, errs.E(errs.Invalid, "unsupported_media_type", "send the file as text/csv (Content-Type: text/csv)"))
			return
		}
		data, err := io.ReadAll(c.Request.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				httpx.Error(c, errs.E(errs.TooLarge, "too_large", "the file is too large; split it"))
				return
			}
			httpx.Error(c, invalidFile("the file could not be read"))
			return
		}
		v, err := s.ImportShipments(c.Request.Context(), data)
		respond(c, http.StatusCreated, v, err)
	})
	r.GET("/logistics/alerts", "orders:read", func(c *gin.Context) {
		as, err := s.LogisticsAlerts(c.Request.Context(), time.Now())
		respond(c, http.StatusOK, gin.H{"alerts": as}, err)
	})
	r.GET("/logistics/carriers", "orders:read", func(c *gin.Context) {
		out := []kuaidi100.Carrier{}
		for _, code := range kuaidi100.CarrierCodes() {
			cr, _ := kuaidi100.CarrierOf(code)
			out = append(out, cr)
		}
		c.JSON(http.StatusOK, gin.H{"carriers": out})
	})
	r.GET("/logistics/warehouse-webhook", "shop:read", func(c *gin.Context) {
		v, err := s.WarehouseWebhookInfo(c.Request.Context())
		respond(c, http.StatusOK, v, err)
	})
	r.POST("/logistics/warehouse-webhook/secret", "shop:write", func(c *gin.Context) {
		v, err := s.RotateWarehouseSecret(c.Request.Context())
		if err == nil {
			c.Header("Cache-Control", "no-store")
		}
		respond(c, http.StatusCreated, v, err)
	})
}

// TenantOf resolves a shop's slug to its tenant id (404 tenant_not_found).
type TenantOf func(ctx context.Context, slug string) (int64, error)

// RegisterLogisticsCallbacks mounts the routes carriers and warehouses
// call: Kuaidi100's pushes (KD100CallbackPath, answered in Kuaidi100's
// format) and the warehouse webhook (WarehousePath, HMAC-signed). The shop
// comes from the path.
func (h *Handler) RegisterLogisticsCallbacks(r gin.IRoutes, tenantOf TenantOf) {
	s := h.S
	r.POST(KD100CallbackPath, func(c *gin.Context) {
		tid, err := tenantOf(c.Request.Context(), c.Param("slug"))
		if err != nil {
			httpx.Error(c, err)
			return
		}
		id, ok := kd100Query(c.Request.URL.Query())
		if !ok {
			httpx.Error(c, errNoShipment)
			return
		}
		if err := c.Request.ParseForm(); err != nil {
			httpx.Error(c, errs.E(errs.Invalid, "bad_push", "send param and sign as a form"))
			return
		}
		ctx := scope.WithTenant(c.Request.Context(), tid)
		if err := s.Kuaidi100Push(ctx, id, c.Request.PostForm.Get("param"), c.Request.PostForm.Get("sign")); err != nil {
			httpx.Error(c, err)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", kuaidi100.PushReply(true, "成功"))
	})
	r.POST(WarehousePath, func(c *gin.Context) {
		tid, err := tenantOf(c.Request.Context(), c.Param("slug"))
		if err != nil {
			httpx.Error(c, err)
			return
		}
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			httpx.Error(c, errs.E(errs.TooLarge, "too_large", "the body is too large"))
			return
		}
		ctx := scope.WithActor(scope.WithTenant(c.Request.Context(), tid), scope.Actor{Kind: "system", ID: "warehouse"})
		sh, created, err := s.WarehouseShipment(ctx, c.GetHeader(HeaderTimestamp), c.GetHeader(HeaderSignature), body, time.Now())
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		respond(c, status, sh, err)
	})
}
