package app_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func TestHealthAndReadiness(t *testing.T) {
	e := testenv.New(t)
	if r := e.Do(t, "GET", "", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz: %d", r.Status)
	}
	r := e.Do(t, "GET", "", "/readyz", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"postgres":"ok"`) || !strings.Contains(string(r.Body), `"redis":"ok"`) {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
}

func TestReadinessNamesTheMissingDependency(t *testing.T) {
	// Redis on a port where nothing listens.
	e := testenv.New(t, func(c *config.Config) { c.RedisURL = "redis://127.0.0.1:1/0" })
	r := e.Do(t, "GET", "", "/readyz", nil)
	if r.Status != 503 || r.ErrorCode() != "not_ready" {
		t.Fatalf("readyz with Redis down: %d %s", r.Status, r.Body)
	}
	var body struct {
		Error struct{ Details map[string]string } `json:"error"`
	}
	r.JSON(t, &body)
	if body.Error.Details["postgres"] != "ok" || !strings.HasPrefix(body.Error.Details["redis"], "unreachable") {
		t.Fatalf("readyz must say which dependency is down: %s", r.Body)
	}
	if r := e.Do(t, "GET", "", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz reports the process, not its dependencies: %d", r.Status)
	}
}

func TestMetricsByRouteAndStatus(t *testing.T) {
	e := testenv.New(t)
	// One task waiting in the critical queue.
	if _, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "nordic-skin", Name: "Nordic Skin"}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.App.Relay().Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("relay: %d %v", n, err)
	}
	e.Do(t, "GET", "nobody.shop.test", "/api/v1/shop", nil)
	e.Do(t, "GET", "", "/healthz", nil)
	r := e.Do(t, "GET", "", "/metrics", nil)
	body := string(r.Body)
	for _, want := range []string{
		`minishop_http_requests_total{method="GET",route="/api/v1/shop",status="404"} 1`,
		`minishop_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`minishop_http_request_duration_seconds_bucket{method="GET",route="/api/v1/shop"`,
		`minishop_queue_tasks{queue="critical",state="pending"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	e := testenv.New(t)
	router := e.App.Router()
	router.GET("/boom", func(c *gin.Context) { panic("secret-value-in-panic") })
	srv := httptest.NewServer(router)
	defer srv.Close()
	e.API = srv
	r := e.Do(t, "GET", "", "/boom", nil)
	if r.Status != 500 || r.ErrorCode() != "internal" {
		t.Fatalf("panic: %d %s", r.Status, r.Body)
	}
	rid := r.Header.Get("X-Request-ID")
	if rid == "" || !strings.Contains(string(r.Body), rid) {
		t.Fatalf("500 without the request id: %s", r.Body)
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "panic") || !strings.Contains(logs, rid) {
		t.Fatalf("the panic was not logged with its request id:\n%s", logs)
	}
	if strings.Contains(logs, "secret-value-in-panic") || strings.Contains(string(r.Body), "secret-value-in-panic") {
		t.Fatal("the panic value must not reach logs or clients: it may hold secrets")
	}
}
