package openapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
)

// served is a response of Handler, built once.
type served struct {
	body        []byte
	contentType string
	etag        string
	headers     map[string]string
}

func newServed(body []byte, contentType string, headers map[string]string) *served {
	sum := sha256.Sum256(body)
	return &served{body: body, contentType: contentType, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, headers: headers}
}

var servedJSON = sync.OnceValues(func() (*served, error) {
	b, err := jsonDoc()
	if err != nil {
		return nil, err
	}
	// Public and without credentials: any origin may read it (API tools,
	// editors loading it by URL).
	return newServed(b, "application/json", map[string]string{"Access-Control-Allow-Origin": "*"}), nil
})

var servedDocs = sync.OnceValues(func() (*served, error) {
	b, err := docsPageHTML()
	if err != nil {
		return nil, err
	}
	return newServed(b, "text/html; charset=utf-8", map[string]string{
		// Self-contained: nothing to load, no script to run.
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
	}), nil
})

// Handler serves GET (and HEAD) JSONPath, the document as JSON, and
// DocsPath, the reference page. Both are built once, carry an ETag and
// answer If-None-Match with 304. Other paths are 404 and other methods 405,
// in the API's error shape.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var build func() (*served, error)
		switch r.URL.Path {
		case JSONPath:
			build = servedJSON
		case DocsPath:
			build = servedDocs
		default:
			writeError(w, r, http.StatusNotFound, "route_not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
			return
		}
		s, err := build()
		if err != nil {
			writeError(w, r, http.StatusInternalServerError, "internal", "the API reference cannot be built; quote the request id if you contact support")
			return
		}
		h := w.Header()
		h.Set("Content-Type", s.contentType)
		h.Set("ETag", s.etag)
		h.Set("Cache-Control", "no-cache") // cache, but revalidate: the ETag changes with each release
		h.Set("X-Content-Type-Options", "nosniff")
		for k, v := range s.headers {
			h.Set(k, v)
		}
		if etagMatches(r.Header.Get("If-None-Match"), s.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(s.body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(s.body)
		}
	})
}

// etagMatches applies If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimSpace(part)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	b, _ := json.Marshal(httpx.Body{Error: httpx.BodyError{Code: code, Message: message, RequestID: scope.RequestID(r.Context())}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
