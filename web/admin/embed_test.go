package admin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const indexHTML = `<!doctype html><html><head><script type="module" src="/admin/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`

var bigJS = strings.Repeat("console.log('minishop');\n", 200)

func builtFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(indexHTML)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"assets/index-abc123.js":  {Data: []byte(bigJS)},
		"assets/index-def456.css": {Data: []byte("body{margin:0}")},
	}
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func assertHTMLSecurity(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, part)
		}
	}
	if strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
		t.Errorf("script-src must not allow inline scripts: %q", csp)
	}
}

func TestIndexIsRevalidatedAndSecured(t *testing.T) {
	h := HandlerFS(builtFS())
	for _, target := range []string{"/admin/", "/admin/index.html"} {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", target, rec.Code)
		}
		if got := rec.Body.String(); got != indexHTML {
			t.Errorf("GET %s: body %q, want index.html", target, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", target, got)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", target, got)
		}
		assertHTMLSecurity(t, rec)
	}
}

func TestIndexETagRevalidation(t *testing.T) {
	h := HandlerFS(builtFS())
	rec := do(t, h, http.MethodGet, "/admin/", nil)
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	rec = do(t, h, http.MethodGet, "/admin/s/nordic-skin/catalog", map[string]string{"If-None-Match": etag})
	if rec.Code != http.StatusNotModified {
		t.Fatalf("conditional GET: status %d, want 304", rec.Code)
	}
}

func TestHashedAssetsAreImmutable(t *testing.T) {
	h := HandlerFS(builtFS())
	rec := do(t, h, http.MethodGet, "/admin/assets/index-abc123.js", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
		t.Errorf("Content-Type %q, want text/javascript", got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if rec.Body.String() != bigJS {
		t.Error("asset body differs from the file")
	}
	if got := rec.Header().Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding %q without Accept-Encoding", got)
	}

	rec = do(t, h, http.MethodGet, "/admin/assets/index-def456.css", nil)
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("css Content-Type %q", got)
	}
}

func TestGzip(t *testing.T) {
	h := HandlerFS(builtFS())
	rec := do(t, h, http.MethodGet, "/admin/assets/index-abc123.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", got)
	}
	if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary %q", got)
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != bigJS {
		t.Error("gunzipped body differs from the file")
	}
	rec = do(t, h, http.MethodGet, "/admin/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if got := rec.Header().Get("Content-Encoding"); got != "" {
		t.Errorf("gzip;q=0: Content-Encoding %q", got)
	}
}

func TestSPAFallback(t *testing.T) {
	h := HandlerFS(builtFS())
	for _, target := range []string{
		"/admin/login",
		"/admin/s/nordic-skin/catalog",
		"/admin/s/nordic-skin/catalog/123",
		"/admin/shops?x=1",
		"/admin/../admin/s/x", // cleaned, stays inside
	} {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK || rec.Body.String() != indexHTML {
			t.Errorf("GET %s: status %d, body %.40q; want index.html", target, rec.Code, rec.Body.String())
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", target, got)
		}
		assertHTMLSecurity(t, rec)
	}
}

func TestPublicFilesAreServed(t *testing.T) {
	h := HandlerFS(builtFS())
	rec := do(t, h, http.MethodGet, "/admin/favicon.svg", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<svg") {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Type"); got != "image/svg+xml" {
		t.Errorf("Content-Type %q", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q", got)
	}
}

func TestMissingAssetIs404(t *testing.T) {
	h := HandlerFS(builtFS())
	for _, target := range []string{"/admin/assets/index-old999.js", "/admin/assets/", "/admin/assets"} {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("GET %s: served HTML for a missing asset", target)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", target, got)
		}
	}
}

func TestNotBuilt(t *testing.T) {
	h := HandlerFS(fstest.MapFS{".gitkeep": {Data: nil}})
	for _, target := range []string{"/admin/", "/admin/s/nordic-skin", "/admin/login"} {
		rec := do(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET %s: status %d, want 503", target, rec.Code)
		}
		body := rec.Body.String()
		if !strings.Contains(body, "not built") || !strings.Contains(body, "make run") {
			t.Errorf("GET %s: body does not explain: %q", target, body)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		assertHTMLSecurity(t, rec)
	}
	rec := do(t, h, http.MethodGet, "/admin/assets/index-abc123.js", nil)
	if rec.Code != http.StatusNotFound {
		t.Errorf("asset of an unbuilt console: status %d, want 404", rec.Code)
	}
}

func TestMethodsAndPrefix(t *testing.T) {
	h := HandlerFS(builtFS())
	rec := do(t, h, http.MethodPost, "/admin/login", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = do(t, h, http.MethodHead, "/admin/", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
	rec = do(t, h, http.MethodGet, "/admin", nil)
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/admin/" {
		t.Errorf("GET /admin: status %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = do(t, h, http.MethodGet, "/elsewhere", nil)
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /elsewhere: status %d", rec.Code)
	}
}

// The embedded handler works whether or not the console was built.
func TestEmbeddedHandler(t *testing.T) {
	rec := do(t, Handler(), http.MethodGet, "/admin/", nil)
	want := http.StatusServiceUnavailable
	if Built() {
		want = http.StatusOK
	}
	if rec.Code != want {
		t.Fatalf("GET /admin/: status %d, want %d (built: %v)", rec.Code, want, Built())
	}
	assertHTMLSecurity(t, rec)
}
