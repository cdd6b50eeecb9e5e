package shop

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/tenant"
)

// ImportPath is the upload route, which the router allows a body of
// MaxImportBytes (httpx.BodyLimit).
const ImportPath = "/api/admin/v1/tenants/:slug/catalog/imports"

func contentType(format string) string {
	if format == FormatXLSX {
		return ContentTypeXLSX
	}
	return "text/csv; charset=utf-8"
}

func sendFile(c *gin.Context, format, name string) {
	if format == "" {
		format = FormatCSV
	}
	c.Header("Content-Type", contentType(format))
	c.Header("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
}

// registerCatalogImport mounts the catalog template, import and export.
func (h *Handler) registerCatalogImport(r tenant.Router) {
	s := h.S
	r.GET("/catalog/import/template", "catalog:read", func(c *gin.Context) {
		format := c.Query("format")
		if err := CheckFormat(format); err != nil {
			httpx.Error(c, err)
			return
		}
		sendFile(c, format, "catalog-template")
		if err := s.Template(c.Request.Context(), format, c.Writer); err != nil {
			_ = c.Error(err)
		}
	})
	r.GET("/catalog/export", "catalog:read", func(c *gin.Context) {
		format := c.Query("format")
		if err := CheckFormat(format); err != nil {
			httpx.Error(c, err)
			return
		}
		sendFile(c, format, "catalog-"+c.Param("slug")+"-"+time.Now().UTC().Format("20060102-150405"))
		if err := s.Export(c.Request.Context(), format, c.Writer); err != nil {
			_ = c.Error(err) // the status is sent: the cut-short file shows it
		}
	})
	r.POST("/catalog/imports", "catalog:write", func(c *gin.Context) {
		name, data, err := uploadedFile(c)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		job, err := s.StartImport(c.Request.Context(), name, data, ImportOptions{})
		status := http.StatusCreated
		if job != nil && job.Status == ImportQueued {
			status = http.StatusAccepted
		}
		respond(c, status, job, err)
	})
	r.GET("/catalog/imports/:id", "catalog:read", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		if !ok {
			return
		}
		job, err := s.Import(c.Request.Context(), id)
		respond(c, http.StatusOK, job, err)
	})
	r.GET("/catalog/imports/:id/errors", "catalog:read", func(c *gin.Context) {
		id, ok := idParam(c, "id")
		if !ok {
			return
		}
		if _, err := s.Import(c.Request.Context(), id); err != nil {
			httpx.Error(c, err)
			return
		}
		sendFile(c, FormatCSV, "import-errors")
		if err := s.ImportErrors(c.Request.Context(), id, c.Writer); err != nil {
			_ = c.Error(err)
		}
	})
}

var errUpload = errs.E(errs.Invalid, "invalid_upload", "send the file as multipart/form-data in a field named file (CSV or XLSX, at most 64 MiB)")

// uploadedFile reads the multipart field "file" without spilling it to disk.
func uploadedFile(c *gin.Context) (string, []byte, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return "", nil, errUpload
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", nil, errs.E(errs.TooLarge, "too_large", "the file is larger than 64 MiB; split it")
			}
			return "", nil, errUpload
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, MaxImportBytes+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", nil, errs.E(errs.TooLarge, "too_large", "the file is larger than 64 MiB; split it")
			}
			return "", nil, errUpload
		}
		if len(data) > MaxImportBytes {
			return "", nil, errs.E(errs.TooLarge, "too_large", "the file is larger than 64 MiB; split it")
		}
		return p.FileName(), data, nil
	}
}
