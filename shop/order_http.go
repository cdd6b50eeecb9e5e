package shop

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/tenant"
)

// registerOrders mounts checkout and the customer's orders on the
// storefront; every route needs a customer token.
func (h *Handler) registerOrders(rg *gin.RouterGroup) {
	g := rg.Group("/orders", h.requireCustomer())
	g.POST("", h.createOrder)
	g.GET("", h.myOrders)
	g.GET("/:id", h.myOrder)
	g.POST("/:id/cancel", h.cancelMyOrder)
	g.POST("/:id/pay", h.payOrder)
}

// registerOrderAdmin mounts orders and shipping templates under /tenants/:slug.
func (h *Handler) registerOrderAdmin(r tenant.Router) {
	s := h.S
	r.GET("/orders", "orders:read", func(c *gin.Context) {
		f, err := orderFilter(c)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		os, next, err := s.Orders(c.Request.Context(), f)
		respond(c, http.StatusOK, orderPage(os, next), err)
	})
	r.GET("/orders/:id", "orders:read", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		o, err := s.AdminOrder(c.Request.Context(), id)
		respond(c, http.StatusOK, o, err)
	})
	r.POST("/orders/:id/cancel", "orders:write", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		o, err := s.CancelOrder(c.Request.Context(), id)
		respond(c, http.StatusOK, o, err)
	})

	r.GET("/shipping-templates", "shop:read", func(c *gin.Context) {
		ts, err := s.ShippingTemplates(c.Request.Context())
		respond(c, http.StatusOK, gin.H{"templates": ts}, err)
	})
	r.POST("/shipping-templates", "shop:write", func(c *gin.Context) {
		var in ShippingTemplateInput
		if !bindJSON(c, &in) {
			return
		}
		t, err := s.SaveShippingTemplate(c.Request.Context(), 0, in)
		respond(c, http.StatusCreated, t, err)
	})
	r.GET("/shipping-templates/:id", "shop:read", func(c *gin.Context) {
		id, ok := templateParam(c)
		if !ok {
			return
		}
		t, err := s.ShippingTemplate(c.Request.Context(), id)
		respond(c, http.StatusOK, t, err)
	})
	r.PUT("/shipping-templates/:id", "shop:write", func(c *gin.Context) {
		id, ok := templateParam(c)
		var in ShippingTemplateInput
		if !ok || !bindJSON(c, &in) {
			return
		}
		t, err := s.SaveShippingTemplate(c.Request.Context(), id, in)
		respond(c, http.StatusOK, t, err)
	})
	r.DELETE("/shipping-templates/:id", "shop:write", func(c *gin.Context) {
		id, ok := templateParam(c)
		if !ok {
			return
		}
		respond(c, http.StatusNoContent, nil, s.DeleteShippingTemplate(c.Request.Context(), id))
	})
}

func orderParam(c *gin.Context) (int64, bool) {
	id, err := pathID(c, "id", "order")
	if err != nil {
		httpx.Error(c, err)
		return 0, false
	}
	return id, true
}

func templateParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Error(c, errNoTemplate)
		return 0, false
	}
	return id, true
}

func orderPage(os []Order, next string) gin.H {
	if os == nil {
		os = []Order{}
	}
	page := gin.H{"orders": os, "next_cursor": nil}
	if next != "" {
		page["next_cursor"] = next
	}
	return page
}

func queryLimit(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 100")
	}
	return n, nil
}

// parseDay reads a date (2026-01-31, as midnight China time) or an RFC 3339 time.
func parseDay(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, cst); err == nil {
		return &t, nil
	}
	return nil, errs.E(errs.Invalid, "invalid_date", name+" must be a date such as 2026-01-31 (China time) or an RFC 3339 time")
}

func orderFilter(c *gin.Context) (OrderFilter, error) {
	f := OrderFilter{Status: c.Query("status"), Cursor: c.Query("cursor")}
	var err error
	if f.Limit, err = queryLimit(c); err != nil {
		return f, err
	}
	if f.From, err = parseDay("from", c.Query("from")); err != nil {
		return f, err
	}
	if f.To, err = parseDay("to", c.Query("to")); err != nil {
		return f, err
	}
	if f.To != nil && len(c.Query("to")) == len("2006-01-02") {
		t := f.To.AddDate(0, 0, 1) // a date as "to" includes that day
		f.To = &t
	}
	if v := c.Query("customer_id"); v != "" {
		if f.CustomerID, err = strconv.ParseInt(v, 10, 64); err != nil || f.CustomerID <= 0 {
			return f, errs.E(errs.Invalid, "invalid_customer", "customer_id must be a customer id")
		}
	}
	return f, nil
}

func (h *Handler) createOrder(c *gin.Context) {
	var in OrderInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	o, created, err := h.S.CreateOrder(c.Request.Context(), c.GetHeader("Idempotency-Key"), in)
	if err != nil {
		fail(c, err)
		return
	}
	if !created {
		c.Header("Idempotent-Replayed", "true")
		c.JSON(http.StatusOK, o)
		return
	}
	c.JSON(http.StatusCreated, o)
}

func (h *Handler) myOrders(c *gin.Context) {
	limit, err := queryLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	os, next, err := h.S.MyOrders(c.Request.Context(), c.Query("cursor"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, orderPage(os, next))
}

func (h *Handler) myOrder(c *gin.Context) {
	id, err := pathID(c, "id", "order")
	if err == nil {
		var o *Order
		if o, err = h.S.MyOrder(c.Request.Context(), id); err == nil {
			c.JSON(http.StatusOK, o)
			return
		}
	}
	fail(c, err)
}

func (h *Handler) cancelMyOrder(c *gin.Context) {
	id, err := pathID(c, "id", "order")
	if err == nil {
		var o *Order
		if o, err = h.S.CancelMyOrder(c.Request.Context(), id); err == nil {
			c.JSON(http.StatusOK, o)
			return
		}
	}
	fail(c, err)
}

func (h *Handler) payOrder(c *gin.Context) {
	id, err := pathID(c, "id", "order")
	if err == nil {
		var o *Order
		var p *PayParams
		if o, p, err = h.S.Pay(c.Request.Context(), id); err == nil {
			c.JSON(http.StatusOK, gin.H{"order_id": o.ID, "out_trade_no": o.OutTradeNo, "amount": o.ActuralPaid, "currency": o.Currency, "params": p})
			return
		}
	}
	fail(c, err)
}
