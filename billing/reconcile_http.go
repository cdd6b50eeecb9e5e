package billing

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/tenant"
)

// Permissions of the reconciliation routes (role templates: owner, admin
// and finance have both; viewer reads).
const (
	PermFinanceRead  = "finance:read"
	PermFinanceWrite = "finance:write"
)

// RegisterReconciliation mounts reconciliation under /tenants/:slug.
func RegisterReconciliation(r tenant.Router, rc *Reconciler) {
	day := func(c *gin.Context, s string) (bool, time.Time) {
		t, err := ParseDay(s)
		if err != nil {
			httpx.Error(c, err)
			return false, t
		}
		return true, t
	}
	r.POST("/reconciliations", PermFinanceWrite, func(c *gin.Context) {
		var in struct {
			Date string `json:"date" binding:"required"`
		}
		if err := httpx.Bind(c, &in); err != nil {
			httpx.Error(c, err)
			return
		}
		ok, d := day(c, in.Date)
		if !ok {
			return
		}
		run, err := rc.Reconcile(c.Request.Context(), d)
		if e := errs.As(err); err != nil && (run == nil || e != nil && e.Kind != errs.Internal && e.Kind != errs.Unavailable) {
			httpx.Error(c, err) // for example 409 payments_not_configured
			return
		}
		if err != nil {
			httpx.Error(c, errs.E(errs.Unavailable, "reconciliation_failed", "the reconciliation of "+in.Date+" failed: "+run.Error+"; try again later").
				WithZH(in.Date+" 的对账失败："+reconcileZH.Or(run.Error)+"；请稍后重试"))
			return
		}
		c.JSON(http.StatusOK, gin.H{"reconciliation": run.localized(c.Request.Context())})
	})
	r.GET("/reconciliations", PermFinanceRead, func(c *gin.Context) {
		limit := 90
		if s := c.Query("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 366 {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be 1 to 366"))
				return
			}
			limit = n
		}
		runs, err := rc.Runs(c.Request.Context(), limit)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"reconciliations": localizedRuns(c.Request.Context(), runs)})
	})
	r.GET("/reconciliations/:date", PermFinanceRead, func(c *gin.Context) {
		ok, d := day(c, c.Param("date"))
		if !ok {
			return
		}
		run, ds, err := rc.Day(c.Request.Context(), d)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		ctx := c.Request.Context()
		c.JSON(http.StatusOK, gin.H{"reconciliation": run.localized(ctx), "discrepancies": localizedDiscrepancies(ctx, ds)})
	})
	r.POST("/reconciliations/:date/discrepancies/:id/resolve", PermFinanceWrite, func(c *gin.Context) {
		ok, d := day(c, c.Param("date"))
		if !ok {
			return
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			httpx.Error(c, errs.E(errs.NotFound, "discrepancy_not_found", "no such discrepancy on this day"))
			return
		}
		var in struct {
			Note string `json:"note" binding:"required"`
		}
		if err := httpx.Bind(c, &in); err != nil {
			httpx.Error(c, err)
			return
		}
		dis, err := rc.Resolve(c.Request.Context(), d, id, in.Note)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"discrepancy": &localizedDiscrepancies(c.Request.Context(), []Discrepancy{*dis})[0]})
	})
	r.GET("/reconciliations/:date/discrepancies.csv", PermFinanceRead, func(c *gin.Context) {
		ok, d := day(c, c.Param("date"))
		if !ok {
			return
		}
		_, ds, err := rc.Day(c.Request.Context(), d)
		if err != nil {
			httpx.Error(c, err)
			return
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="discrepancies-`+c.Param("date")+`.csv"`)
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"id", "date", "kind", "reference", "state", "explanation", "evidence", "note", "resolved_by", "resolved_at"})
		for _, x := range localizedDiscrepancies(c.Request.Context(), ds) {
			at := ""
			if x.ResolvedAt != nil {
				at = x.ResolvedAt.Format("2006-01-02T15:04:05Z")
			}
			_ = w.Write([]string{strconv.FormatInt(x.ID, 10), x.Date, x.Kind, csvSafe(x.Reference), x.State, csvSafe(x.Explanation),
				string(x.Evidence), csvSafe(x.Note), csvSafe(x.ResolvedBy), at})
		}
		w.Flush()
	})
}

// csvSafe defuses spreadsheet formulas in free text.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
