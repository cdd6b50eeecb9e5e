// Package openapi is the reference of Minishop's HTTP APIs: the storefront
// API (/api/v1, the shop chosen by the Host), the admin API (/api/admin/v1,
// session cookie or API token) and the health checks (/healthz, /readyz).
//
// The reference is one hand-written OpenAPI 3.0.3 document, openapi.yaml,
// embedded in the binary. It is written for the brands' and agencies'
// developers, and the test suite keeps it true:
//
//   - Validator checks responses against it. The test environment's HTTP
//     server passes every response any test receives through Validator.Check,
//     so a response whose status, content type or body the document does not
//     describe fails the test that received it, and so does a request to an
//     /api/ route the document lacks.
//   - Routes lists the document's operations in gin's syntax, so a test can
//     compare it with the router both ways: a route added without its
//     documentation, or documentation left behind by a removed route, fails.
//
// Adding or changing an endpoint therefore means editing openapi.yaml in the
// same change: the path and method, every status the handler (and the
// middleware in front of it) can answer with, the request body with its
// required fields, and the response shapes exactly as the JSON tags produce
// them (fields that can be null are "nullable: true", times are
// "format: date-time", money is integer fen). Response objects are declared
// with "additionalProperties: false", so a field added to a response but not
// to the document is caught too. Errors always use components/schemas/Error;
// list the error codes of each status in its description.
//
// Handler serves the document to people and tools: GET /api/openapi.json (the
// document as JSON, with an ETag) and GET /api/docs (an HTML page rendered
// here from the document, self-contained, so it works without access to any
// CDN). Mount it on both paths, e.g. with gin:
//
//	h := gin.WrapH(openapi.Handler())
//	r.GET(openapi.JSONPath, h)
//	r.GET(openapi.DocsPath, h)
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Paths at which Handler serves the reference.
const (
	JSONPath = "/api/openapi.json"
	DocsPath = "/api/docs"
)

//go:embed openapi.yaml
var specYAML []byte

// Spec returns the OpenAPI document as written (YAML).
func Spec() []byte { return bytes.Clone(specYAML) }

// load parses and validates the embedded document. origin records the line
// of each element (the docs page uses it to keep the document's order).
func load(origin bool) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.IncludeOrigin = origin
	doc, err := l.LoadFromData(specYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(l.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// document is the parsed document shared by JSON, Routes and Handler. It is
// never modified after loading.
var document = sync.OnceValues(func() (*openapi3.T, error) { return load(false) })

var jsonDoc = sync.OnceValues(func() ([]byte, error) {
	doc, err := document()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// JSON returns the OpenAPI document as JSON (converted once, then cached).
func JSON() ([]byte, error) {
	b, err := jsonDoc()
	return bytes.Clone(b), err
}

// methods are the HTTP methods of operations, in display order.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace}

var pathParam = regexp.MustCompile(`\{([^{}/]+)\}`)

// ginPath turns /tenants/{slug} into gin's /tenants/:slug.
func ginPath(p string) string { return pathParam.ReplaceAllString(p, ":$1") }

// Routes returns "METHOD /path" for every operation of the document, with
// path parameters in gin's syntax ("GET /api/admin/v1/tenants/:slug"),
// sorted. It includes the routes the router registers only in dev mode
// (see DevOnlyRoutes). It panics if the embedded document is invalid, which
// the package's tests rule out.
func Routes() []string { return routes(false) }

// DevOnlyRoutes returns, like Routes, the operations marked "x-dev-only":
// the router registers them only in dev mode.
func DevOnlyRoutes() []string { return routes(true) }

func routes(devOnly bool) []string {
	doc, err := document()
	if err != nil {
		panic(err)
	}
	var out []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if devOnly && !isDevOnly(op) {
				continue
			}
			out = append(out, method+" "+ginPath(path))
		}
	}
	slices.Sort(out)
	return out
}

func isDevOnly(op *openapi3.Operation) bool {
	v, _ := op.Extensions["x-dev-only"].(bool)
	return v
}

// isAPI reports whether path belongs to the documented APIs; anything else
// (the console under /admin/, /metrics, /platform/queues) is not checked.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz"
}
