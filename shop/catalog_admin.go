package shop

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/tenant"
)

func respond(c *gin.Context, status int, v any, err error) {
	if err != nil {
		httpx.Error(c, err)
		return
	}
	if v == nil {
		c.Status(status)
		return
	}
	c.JSON(status, v)
}

func idParam(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		httpx.Error(c, errs.E(errs.NotFound, "not_found", "no such "+name))
		return 0, false
	}
	return id, true
}

func bindJSON(c *gin.Context, v any) bool {
	if err := httpx.Bind(c, v); err != nil {
		httpx.Error(c, err)
		return false
	}
	return true
}

// registerCatalogAdmin mounts catalog administration under /tenants/:slug.
func (h *Handler) registerCatalogAdmin(r tenant.Router) {
	s := h.S
	r.GET("/products", "catalog:read", func(c *gin.Context) {
		f := ProductFilter{Status: c.Query("status"), Query: c.Query("q"), Cursor: c.Query("cursor")}
		if v := c.Query("category_id"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_category", "category_id must be a category id"))
				return
			}
			f.CategoryID = &id
		}
		if v := c.Query("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 100"))
				return
			}
			f.Limit = n
		}
		ps, next, err := s.Products(c.Request.Context(), f)
		page := gin.H{"products": ps, "next_cursor": nil}
		if next != "" {
			page["next_cursor"] = next
		}
		respond(c, http.StatusOK, page, err)
	})
	r.POST("/products", "catalog:write", func(c *gin.Context) {
		var in ProductInput
		if !bindJSON(c, &in) {
			return
		}
		p, err := s.CreateProduct(c.Request.Context(), in)
		respond(c, http.StatusCreated, p, err)
	})
	r.GET("/products/:id", "catalog:read", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		if !ok {
			return
		}
		p, err := s.Product(c.Request.Context(), id)
		respond(c, http.StatusOK, p, err)
	})
	r.PUT("/products/:id", "catalog:write", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		var in ProductInput
		if !ok || !bindJSON(c, &in) {
			return
		}
		p, err := s.UpdateProduct(c.Request.Context(), id, in)
		respond(c, http.StatusOK, p, err)
	})
	r.PUT("/products/:id/skus", "catalog:write", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		var in struct {
			SKUs []SKUEdit `json:"skus" binding:"required"`
		}
		if !ok || !bindJSON(c, &in) {
			return
		}
		p, err := s.UpdateSKUs(c.Request.Context(), id, in.SKUs)
		respond(c, http.StatusOK, p, err)
	})
	for action, status := range map[string]string{"publish": StatusPublished, "unpublish": StatusDraft, "archive": StatusArchived} {
		r.POST("/products/:id/"+action, "catalog:write", func(c *gin.Context) {
			id, ok := idParam(c, "id")
			if !ok {
				return
			}
			p, err := s.SetStatus(c.Request.Context(), id, status)
			respond(c, http.StatusOK, p, err)
		})
	}
	r.POST("/products/bulk", "catalog:write", func(c *gin.Context) {
		var in struct {
			IDs    []int64 `json:"ids" binding:"required"`
			Action string  `json:"action" binding:"required,oneof=publish unpublish archive"`
		}
		if !bindJSON(c, &in) {
			return
		}
		status := map[string]string{"publish": StatusPublished, "unpublish": StatusDraft, "archive": StatusArchived}[in.Action]
		res, err := s.Bulk(c.Request.Context(), in.IDs, status)
		respond(c, http.StatusOK, gin.H{"results": res}, err)
	})

	r.GET("/categories", "catalog:read", func(c *gin.Context) {
		cs, err := s.Categories(c.Request.Context())
		respond(c, http.StatusOK, gin.H{"categories": cs}, err)
	})
	r.POST("/categories", "catalog:write", func(c *gin.Context) {
		var in CategoryInput
		if !bindJSON(c, &in) {
			return
		}
		cat, err := s.SaveCategory(c.Request.Context(), 0, in)
		respond(c, http.StatusCreated, cat, err)
	})
	r.PUT("/categories/:id", "catalog:write", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		var in CategoryInput
		if !ok || !bindJSON(c, &in) {
			return
		}
		cat, err := s.SaveCategory(c.Request.Context(), id, in)
		respond(c, http.StatusOK, cat, err)
	})
	r.DELETE("/categories/:id", "catalog:write", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		if !ok {
			return
		}
		respond(c, http.StatusNoContent, nil, s.DeleteCategory(c.Request.Context(), id))
	})

	r.POST("/images", "catalog:write", func(c *gin.Context) {
		// The router allows this route a larger body than JSON routes (httpx.BodyLimit).
		f, _, err := c.Request.FormFile("file")
		if err != nil {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_upload", "send the image as multipart/form-data in a field named file (at most 5 MiB)"))
			return
		}
		defer f.Close()
		img, err := s.UploadImage(c.Request.Context(), f)
		respond(c, http.StatusCreated, img, err)
	})
	r.GET("/images/:hash", "catalog:read", func(c *gin.Context) {
		f, ct, err := s.ImageFile(c.Request.Context(), c.Param("hash"))
		if err != nil {
			httpx.Error(c, err)
			return
		}
		defer f.Close()
		c.Header("Content-Type", ct)
		c.Header("Cache-Control", "private, max-age=31536000, immutable")
		c.Header("X-Content-Type-Options", "nosniff")
		http.ServeContent(c.Writer, c.Request, "", startOfTime, f)
	})

	r.GET("/warehouses", "catalog:read", func(c *gin.Context) {
		ws, err := s.Warehouses(c.Request.Context())
		respond(c, http.StatusOK, gin.H{"warehouses": ws}, err)
	})
	r.POST("/warehouses", "catalog:write", func(c *gin.Context) {
		var in WarehouseInput
		if !bindJSON(c, &in) {
			return
		}
		w, err := s.CreateWarehouse(c.Request.Context(), in)
		respond(c, http.StatusCreated, w, err)
	})
	r.POST("/stock/movements", "catalog:write", func(c *gin.Context) {
		var in MoveInput
		if !bindJSON(c, &in) {
			return
		}
		m, err := s.RecordMovement(c.Request.Context(), in)
		respond(c, http.StatusCreated, m, err)
	})
	r.GET("/skus/:id/stock", "catalog:read", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		if !ok {
			return
		}
		var before int64
		if v := c.Query("before"); v != "" {
			before, _ = strconv.ParseInt(v, 10, 64)
		}
		v, err := s.StockOf(c.Request.Context(), id, before)
		respond(c, http.StatusOK, v, err)
	})
	r.GET("/tax-rates", "catalog:read", func(c *gin.Context) {
		out := []gin.H{}
		for _, cat := range s.Rates.Categories() {
			r, _ := s.Rates.Composite(cat)
			out = append(out, gin.H{"category": cat, "rate": RatePercent(r)})
		}
		c.JSON(http.StatusOK, gin.H{"categories": out})
	})
}
