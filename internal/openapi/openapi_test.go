package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/minishop/minishop/internal/openapi"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(openapi.Spec())
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	return doc
}

func TestSpecIsValid(t *testing.T) {
	doc := loadDoc(t)
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi: %q, want 3.0.3", doc.OpenAPI)
	}
}

// TestOperationsAreComplete checks what the validator and the readers rely
// on: every operation has an id, a tag, a summary, a 2xx (or is documented
// as always refused), and errors in the one shape.
func TestOperationsAreComplete(t *testing.T) {
	doc := loadDoc(t)
	ids := map[string]string{}
	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", name)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %s is also %s's", name, op.OperationID, other)
			}
			ids[op.OperationID] = name
			if len(op.Tags) != 1 || !tags[op.Tags[0]] {
				t.Errorf("%s: want exactly one tag declared under tags, got %v", name, op.Tags)
			}
			if op.Summary == "" {
				t.Errorf("%s: no summary", name)
			}
			if op.Security == nil {
				t.Errorf("%s: say who may call it (security; [] for no credentials)", name)
			}
			success := false
			for code, r := range op.Responses.Map() {
				if strings.HasPrefix(code, "2") || code == "304" {
					success = true
				}
				if code == "default" {
					t.Errorf("%s: list every status instead of default", name)
				}
				if code[0] == '4' || code[0] == '5' {
					if code == "416" { // http.ServeContent's, plain text
						continue
					}
					if op.Extensions["x-wechatpay-callback"] == true && r.Value.Content.Get("application/json") != nil &&
						r.Value.Content.Get("application/json").Schema.Ref == "#/components/schemas/WeChatPayFail" {
						continue // WeChat Pay's own failure answer, which its protocol prescribes
					}
					mt := r.Value.Content.Get("application/json")
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
						t.Errorf("%s: %s must use components/schemas/Error", name, code)
					}
				}
			}
			if !success && !strings.Contains(op.Description, "Always refused") {
				t.Errorf("%s: no success response", name)
			}
		}
	}
}

// TestExamplesMatchSchemas checks every example in the document: on schemas
// (and their properties, at any depth), on media types and on parameters.
func TestExamplesMatchSchemas(t *testing.T) {
	doc := loadDoc(t)
	n := 0
	check := func(where string, s *openapi3.Schema, example any) {
		t.Helper()
		if example == nil || s == nil {
			return
		}
		n++
		if err := s.VisitJSON(normalize(t, example), openapi3.MultiErrors()); err != nil {
			t.Errorf("example of %s does not match its schema: %v", where, err)
		}
	}
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		check(where, s, s.Example)
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
		walk(where+"{}", s.AdditionalProperties.Schema)
		for i, x := range s.AllOf {
			walk(fmt.Sprintf("%s.allOf[%d]", where, i), x)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk("components/schemas/"+name, s)
	}
	content := func(where string, c openapi3.Content) {
		for mt, m := range c {
			if m.Schema == nil {
				continue
			}
			walk(where+" "+mt, m.Schema)
			check(where+" "+mt, m.Schema.Value, m.Example)
			for en, e := range m.Examples {
				check(where+" "+mt+" example "+en, m.Schema.Value, e.Value.Value)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		content("components/responses/"+name, r.Value.Content)
	}
	for name, p := range doc.Components.Parameters {
		if p.Value.Schema != nil {
			walk("components/parameters/"+name, p.Value.Schema)
			check("components/parameters/"+name, p.Value.Schema.Value, p.Value.Example)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			for _, p := range op.Parameters {
				if p.Value.Schema != nil {
					walk(where+" "+p.Value.Name, p.Value.Schema)
					check(where+" "+p.Value.Name, p.Value.Schema.Value, p.Value.Example)
				}
			}
			if op.RequestBody != nil {
				content(where+" request", op.RequestBody.Value.Content)
			}
			for code, r := range op.Responses.Map() {
				content(where+" "+code, r.Value.Content)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d examples checked; the walk is broken", n)
	}
}

// normalize turns a YAML-decoded example into what encoding/json would
// decode, as responses are.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJSON(t *testing.T) {
	a, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := openapi.JSON()
	if string(a) != string(b) {
		t.Fatal("JSON() changes between calls")
	}
	a[0] = 'x' // callers get their own copy
	if c, _ := openapi.JSON(); c[0] != '{' {
		t.Fatal("JSON() hands out its cache")
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("the JSON does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the JSON is not a valid document: %v", err)
	}
	if want := loadDoc(t); doc.Paths.Len() != want.Paths.Len() {
		t.Fatalf("the JSON has %d paths, the YAML %d", doc.Paths.Len(), want.Paths.Len())
	}
}

func TestRoutes(t *testing.T) {
	routes := openapi.Routes()
	if !slices.IsSorted(routes) || len(slices.Compact(slices.Clone(routes))) != len(routes) {
		t.Fatal("Routes() must be sorted and without duplicates")
	}
	for _, want := range []string{
		"GET /api/v1/shop",
		"GET /api/admin/v1/tenants/:slug",
		"DELETE /api/admin/v1/tenants/:slug/members/:user_id",
		"POST /api/admin/v1/tenants/:slug/agency-access/:agency_id/approve",
		"PUT /api/admin/v1/tenants/:slug/credentials/live/wechatpay",
		"GET /healthz",
		"GET /api/openapi.json",
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("Routes() lacks %s", want)
		}
	}
	valid := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /[a-z0-9/_:.\-]*$`)
	for _, r := range routes {
		if !valid.MatchString(r) {
			t.Errorf("route %q is not METHOD /path in gin's syntax", r)
		}
	}
	dev := openapi.DevOnlyRoutes()
	if !slices.Equal(dev, []string{"GET /api/admin/v1/dev/mail"}) {
		t.Errorf("DevOnlyRoutes() = %v", dev)
	}
}

// exchange is a request and a response made up from the documented shapes.
type exchange struct {
	method, target, host string
	status               int
	contentType          string
	body                 string
	header               http.Header
}

func (x exchange) check(t *testing.T, v *openapi.Validator) error {
	t.Helper()
	req := httptest.NewRequest(x.method, x.target, nil)
	if x.host != "" {
		req.Host = x.host
	}
	h := http.Header{}
	for k, vs := range x.header {
		h[k] = vs
	}
	if x.contentType != "" {
		h.Set("Content-Type", x.contentType)
	}
	return v.Check(req, nil, x.status, h, []byte(x.body))
}

const (
	jsonCT = "application/json; charset=utf-8"
	shop   = `{"slug":"nordic-skin","name":"Nordic Skin","logo_url":null,"currency":"CNY","default_locale":"zh-CN","locales":["zh-CN","en"],"mode":"test"}`
	tenant = `{"id":17,"slug":"nordic-skin","name":"Nordic Skin","status":"active","mode":"test","provisioned_at":null,
		"created_at":"2026-01-31T08:00:00.123456Z","updated_at":"2026-01-31T16:00:00+08:00"}`
	apiErr = `{"error":{"code":"tenant_not_found","message":"no shop is served at x.shop.test","request_id":"0123456789abcdef"}}`
)

func newValidator(t *testing.T) *openapi.Validator {
	t.Helper()
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidatorAcceptsDocumentedResponses(t *testing.T) {
	v := newValidator(t)
	for name, x := range map[string]exchange{
		"storefront shop":              {method: "GET", target: "/api/v1/shop", host: "nordic-skin.shop.test", status: 200, contentType: jsonCT, body: shop},
		"any host, absolute URL":       {method: "GET", target: "http://127.0.0.1:39999/api/v1/shop", host: "shop.example.com:8443", status: 200, contentType: jsonCT, body: shop},
		"storefront error":             {method: "GET", target: "/api/v1/shop", host: "x.shop.test", status: 404, contentType: jsonCT, body: apiErr},
		"error with details":           {method: "POST", target: "/api/admin/v1/platform/tenants", status: 400, contentType: jsonCT, body: `{"error":{"code":"invalid_field","message":"field \"name\" is required","details":[{"field":"name","rule":"required"}],"request_id":"abcdefgh"}}`},
		"created":                      {method: "POST", target: "/api/admin/v1/platform/tenants", status: 201, contentType: jsonCT, body: tenant},
		"path parameters":              {method: "GET", target: "/api/admin/v1/tenants/nordic-skin", status: 200, contentType: jsonCT, body: tenant},
		"no content":                   {method: "DELETE", target: "/api/admin/v1/tenants/nordic-skin/tokens/8", status: 204},
		"page with a null cursor":      {method: "GET", target: "/api/admin/v1/platform/tenants?limit=2", status: 200, contentType: jsonCT, body: `{"tenants":[` + tenant + `],"next_after":null}`},
		"page with a cursor":           {method: "GET", target: "/api/admin/v1/platform/tenants", status: 200, contentType: jsonCT, body: `{"tenants":[],"next_after":17}`},
		"readiness":                    {method: "GET", target: "/readyz", status: 503, contentType: jsonCT, body: `{"error":{"code":"not_ready","message":"a dependency is unreachable","details":{"postgres":"ok","redis":"unreachable: refused"}}}`},
		"health":                       {method: "GET", target: "/healthz", status: 200, contentType: jsonCT, body: `{"status":"ok"}`},
		"param route vs static route":  {method: "GET", target: "/api/admin/v1/invitations/accept", status: 404, contentType: jsonCT, body: apiErr},
		"a credentials route":          {method: "DELETE", target: "/api/admin/v1/tenants/nordic-skin/credentials/live/wechatpay", status: 200, contentType: jsonCT, body: `{"tenant_mode":"test"}`},
		"not modified":                 {method: "GET", target: "/api/v1/products?locale=en", status: 304},
		"image":                        {method: "GET", target: "/api/v1/media/" + strings.Repeat("ab", 32), status: 200, contentType: "image/webp", body: "RIFF....WEBP"},
		"not an API path":              {method: "GET", target: "/metrics", status: 200, contentType: "text/plain", body: "# HELP"},
		"the console":                  {method: "GET", target: "/admin/shops", status: 200, contentType: "text/html", body: "<html>"},
		"the queue monitor":            {method: "GET", target: "/platform/queues", status: 401, contentType: jsonCT, body: apiErr},
		"unknown route, server agrees": {method: "GET", target: "/api/v1/nothing-here", status: 404, contentType: jsonCT, body: `{"error":{"code":"route_not_found","message":"no such endpoint: GET /api/v1/nothing-here"}}`},
		"wrong method, server agrees":  {method: "DELETE", target: "/api/admin/v1/platform/tenants", status: 405, contentType: jsonCT, body: `{"error":{"code":"method_not_allowed","message":"DELETE is not allowed on /api/admin/v1/platform/tenants"}}`},
		"trailing slash redirect":      {method: "GET", target: "/api/v1/shop/", status: 301, header: http.Header{"Location": {"/api/v1/shop"}}},
	} {
		if err := x.check(t, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidatorRejectsWrongResponses(t *testing.T) {
	v := newValidator(t)
	for name, x := range map[string]struct {
		exchange
		want string
	}{
		"missing required field": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT,
			body: strings.Replace(shop, `"currency":"CNY",`, "", 1)}, `"currency"`},
		"wrong type": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT,
			body: strings.Replace(shop, `"locales":["zh-CN","en"]`, `"locales":"zh-CN,en"`, 1)}, "locales"},
		"null where not nullable": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT,
			body: strings.Replace(shop, `"name":"Nordic Skin"`, `"name":null`, 1)}, "name"},
		"value outside the enum": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT,
			body: strings.Replace(shop, `"mode":"test"`, `"mode":"sandbox"`, 1)}, "mode"},
		"time that is not RFC 3339": {exchange{method: "GET", target: "/api/admin/v1/tenants/nordic-skin", status: 200, contentType: jsonCT,
			body: strings.Replace(tenant, `"2026-01-31T08:00:00.123456Z"`, `"2026-01-31 08:00:00"`, 1)}, "created_at"},
		"undocumented field": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT,
			body: strings.Replace(shop, `{`, `{"secret":"x",`, 1)}, "secret"},
		"undocumented status": {exchange{method: "GET", target: "/api/v1/shop", status: 418, contentType: jsonCT, body: apiErr}, "status 418 is not documented"},
		"error in another shape": {exchange{method: "GET", target: "/api/v1/shop", status: 404, contentType: jsonCT,
			body: `{"message":"not found"}`}, "error"},
		"error without a code": {exchange{method: "GET", target: "/api/v1/shop", status: 404, contentType: jsonCT,
			body: `{"error":{"message":"not found"}}`}, "code"},
		"wrong content type": {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: "text/plain", body: shop}, "text/plain"},
		"not JSON":           {exchange{method: "GET", target: "/api/v1/shop", status: 200, contentType: jsonCT, body: `{"slug":`}, "decode"},
		"204 with a body":    {exchange{method: "DELETE", target: "/api/admin/v1/tenants/nordic-skin/tokens/8", status: 204, body: `{}`}, "no body"},
		"undocumented route": {exchange{method: "GET", target: "/api/v1/wishlist", host: "nordic-skin.shop.test", status: 200, contentType: jsonCT, body: `{"items":[]}`}, "undocumented route"},
		"undocumented route, error status": {exchange{method: "POST", target: "/api/admin/v1/tenants/nordic-skin/wishlists", status: 401, contentType: jsonCT,
			body: apiErr}, "undocumented route"},
		"undocumented method": {exchange{method: "PATCH", target: "/api/admin/v1/platform/tenants/nordic-skin", status: 200, contentType: jsonCT, body: tenant}, "undocumented method"},
		"documented but not served": {exchange{method: "GET", target: "/api/v1/shop", status: 404, contentType: jsonCT,
			body: `{"error":{"code":"route_not_found","message":"no such endpoint: GET /api/v1/shop"}}`}, "no such route"},
		"405 not in the error shape": {exchange{method: "DELETE", target: "/api/v1/shop", status: 405, contentType: "text/plain", body: "405 method not allowed"}, "application/json"},
		"redirect to nowhere": {exchange{method: "GET", target: "/api/v1/nothing/", status: 301,
			header: http.Header{"Location": {"/api/v1/nothing"}}}, "undocumented route"},
		"missing required header": {exchange{method: "POST", target: "/api/admin/v1/session", status: 200, contentType: jsonCT,
			body: `{"user":{"id":1,"email":"a@b.cn","name":"","totp_enabled":false,"operator":false,"created_at":"2026-01-31T08:00:00Z"},"memberships":[],"agencies":[],"clients":[],"permissions":{}}`}, "Set-Cookie"},
	} {
		err := x.check(t, v)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), x.want) {
			t.Errorf("%s: the error does not mention %q: %v", name, x.want, err)
		}
	}
}

func TestValidatorIsSafeForConcurrentUse(t *testing.T) {
	v := newValidator(t)
	good := exchange{method: "GET", target: "/api/admin/v1/tenants/nordic-skin", status: 200, contentType: jsonCT, body: tenant}
	bad := exchange{method: "GET", target: "/api/admin/v1/tenants/nordic-skin", status: 200, contentType: jsonCT, body: `{"id":"17"}`}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 32 {
		wg.Go(func() {
			for range 20 {
				if err := good.check(t, v); err != nil {
					errs <- fmt.Sprintf("goroutine %d: good response refused: %v", i, err)
					return
				}
				if bad.check(t, v) == nil {
					errs <- fmt.Sprintf("goroutine %d: bad response accepted", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestHandler(t *testing.T) {
	v := newValidator(t)
	srv := httptest.NewServer(openapi.Handler())
	defer srv.Close()
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		// The handler's own answers must match the document too.
		if err := v.Check(req, nil, resp.StatusCode, resp.Header, body); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		return resp, body
	}

	resp, body := get(openapi.JSONPath)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("JSON: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want, _ := openapi.JSON()
	if string(body) != string(want) {
		t.Fatal("the served JSON is not JSON()")
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("JSON without caching headers: %v", resp.Header)
	}
	if resp, body := get(openapi.JSONPath, "If-None-Match", etag); resp.StatusCode != 304 || len(body) != 0 {
		t.Fatalf("revalidation: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(openapi.JSONPath, "If-None-Match", `"stale"`); resp.StatusCode != 200 {
		t.Fatalf("stale ETag: %d", resp.StatusCode)
	}

	resp, body = get(openapi.DocsPath)
	page := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("ETag") == "" {
		t.Fatalf("docs: %d %v", resp.StatusCode, resp.Header)
	}
	if r2, _ := get(openapi.DocsPath, "If-None-Match", resp.Header.Get("ETag")); r2.StatusCode != 304 {
		t.Fatalf("docs revalidation: %d", r2.StatusCode)
	}
	doc := loadDoc(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) {
				t.Errorf("the page lacks %s %s", method, path)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("the page lacks schema %s", name)
		}
	}
	// Offline: nothing to fetch from anywhere.
	for _, bad := range []string{"<script", "<link", "@import", "src=\"http", "url(http", "cdn"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q: it must be self-contained", bad)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("docs CSP: %q", csp)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+openapi.DocsPath, nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 405 || r.Header.Get("Allow") == "" {
		t.Errorf("POST docs: %d", r.StatusCode)
	}
	if resp, body := get("/api/docs/other"); resp.StatusCode != 404 || !strings.Contains(string(body), `"route_not_found"`) {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
}
