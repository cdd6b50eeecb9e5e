package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

var ridPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// NewRequestID returns a random 16-byte hex id.
func NewRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RequestID takes a sane X-Request-ID from the client (or a proxy) or makes
// one, puts it in the context and echoes it in the response. It also
// records in the context whether the client prefers Chinese (see Chinese),
// the other fact about the request every layer may need.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		rid := c.GetHeader("X-Request-ID")
		if !ridPattern.MatchString(rid) {
			rid = NewRequestID()
		}
		ctx := scope.WithRequestID(c.Request.Context(), rid)
		if PrefersChinese(c.GetHeader("Accept-Language")) {
			ctx = WithChinese(ctx)
		}
		c.Request = c.Request.WithContext(ctx)
		c.Header("X-Request-ID", rid)
		c.Next()
	}
}

// AccessLog writes one line per request: method, route, status, latency,
// tenant and request id. It never logs bodies, query strings or headers,
// which may carry secrets.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		ctx := c.Request.Context()
		attrs := []any{
			"method", c.Request.Method, "route", route(c), "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "latency_ms", float64(time.Since(start).Microseconds()) / 1000,
			"request_id", scope.RequestID(ctx),
		}
		if tid, ok := scope.TenantID(ctx); ok {
			attrs = append(attrs, "tenant_id", tid)
		}
		lvl := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			lvl = slog.LevelError
		}
		log.Log(ctx, lvl, "request", attrs...)
	}
}

func route(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// Recover turns a panic into a 500 with the request id, logging the stack.
// The panic value is logged by type only: it may hold request data or secrets.
func Recover(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(c.Request.Context(), "panic", "type", fmt.Sprintf("%T", p),
					"route", route(c), "request_id", scope.RequestID(c.Request.Context()), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					Error(c, errs.Wrap(fmt.Errorf("panic of type %T", p), "panic"))
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// BodyLimit caps request bodies at n bytes, or at routes[route] for the
// routes listed there (uploads); reading past it fails with
// *http.MaxBytesError, which Error maps to 413. A declared Content-Length over
// the limit is refused before reading.
func BodyLimit(def int64, routes map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := def
		if r, ok := routes[c.FullPath()]; ok {
			n = r
		}
		if c.Request.ContentLength > n {
			Error(c, errs.Errorf(errs.TooLarge, "request body is larger than %d bytes", n))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// Timeout bounds the request's context; handlers and stores pass it to every
// I/O call, so a slow dependency ends the request instead of piling up.
func Timeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// Metrics records request counts and latencies by route and status.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minishop_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "minishop_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Handler is the gin middleware. Unmatched paths share one label so random
// URLs cannot blow up the number of series.
func (m *Metrics) Handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		r := route(c)
		m.requests.WithLabelValues(r, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(r, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}
