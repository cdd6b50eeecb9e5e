package openapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks HTTP responses against the document. It is safe for
// concurrent use; build one and share it.
type Validator struct {
	doc *openapi3.T
	// byMethod holds one router per method, over the operations of that
	// method only, like gin's trees: GET /invitations/accept then matches
	// GET /invitations/{token}, as it does in the server. The routers ignore
	// servers, so any Host and scheme match.
	byMethod map[string]routers.Router
	errors   *openapi3.Schema
	opts     *openapi3filter.Options
}

// NewValidator loads the document and builds a Validator.
func NewValidator() (*Validator, error) {
	doc, err := load(false)
	if err != nil {
		return nil, err
	}
	v := &Validator{doc: doc, byMethod: map[string]routers.Router{}}
	if s := doc.Components.Schemas["Error"]; s != nil && s.Value != nil {
		v.errors = s.Value
	} else {
		return nil, errors.New("openapi.yaml: components/schemas/Error is missing")
	}
	for _, method := range methods {
		paths := openapi3.NewPaths()
		for path, item := range doc.Paths.Map() {
			if op := item.GetOperation(method); op != nil {
				only := &openapi3.PathItem{Parameters: item.Parameters}
				only.SetOperation(method, op)
				paths.Set(path, only)
			}
		}
		if paths.Len() == 0 {
			continue
		}
		r, err := gorillamux.NewRouter(&openapi3.T{OpenAPI: doc.OpenAPI, Info: doc.Info, Components: doc.Components, Paths: paths})
		if err != nil {
			return nil, fmt.Errorf("openapi.yaml: routing %s operations: %w", method, err)
		}
		v.byMethod[method] = r
	}
	v.opts = &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
		},
	}
	return v, nil
}

// Check validates one exchange: the request (only its method and path are
// used; the Host and scheme do not matter) and the response's status, headers
// and body. reqBody is accepted so callers can pass the exchange whole;
// requests are not validated, since tests send invalid ones on purpose.
//
// It returns nil for paths outside the APIs (neither under /api/ nor
// /healthz or /readyz). Under them it returns an error when
//   - the route is not in the document ("undocumented route"), unless the
//     server also answered 404 route_not_found (there is no such route) or
//     redirected to a documented path (a trailing slash);
//   - the path is documented for other methods only, unless the server
//     answered 405 with the error shape;
//   - the route is documented but the server answered 404 route_not_found
//     (documented but not served);
//   - the status is not documented for the operation, the Content-Type is not
//     the documented one, the body does not match its schema, a documented
//     required header is missing, or a 204 has a body.
func (v *Validator) Check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	_ = reqBody
	if req == nil || req.URL == nil {
		return errors.New("openapi: Check needs the request")
	}
	path := req.URL.Path
	if !isAPI(path) {
		return nil
	}
	if header == nil {
		header = http.Header{}
	}
	exchange := fmt.Sprintf("%s %s → %d", req.Method, path, status)
	if strings.EqualFold(header.Get("Content-Encoding"), "gzip") && len(body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: Content-Encoding is gzip but the body is not: %v", exchange, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("%s: Content-Encoding is gzip but the body does not inflate: %v", exchange, err)
		}
	}
	route, params, found := v.find(req.Method, req)
	if !found {
		return v.checkUnrouted(req, exchange, status, header, body)
	}
	op := req.Method + " " + route.Path
	if status == http.StatusNotFound && errorCode(body) == "route_not_found" {
		return fmt.Errorf("%s: %s is documented in openapi.yaml, but the server has no such route (route_not_found)", exchange, op)
	}
	if route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil {
		return fmt.Errorf("%s: status %d is not documented for %s in openapi.yaml (documented: %s); body: %s",
			exchange, status, op, strings.Join(statuses(route.Operation), ", "), excerpt(body))
	}
	if status == http.StatusNoContent && len(bytes.TrimSpace(body)) > 0 {
		return fmt.Errorf("%s: a 204 response must have no body; body: %s", exchange, excerpt(body))
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: v.opts,
		},
		Status:  status,
		Header:  header,
		Options: v.opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s: the response does not match %s in openapi.yaml: %v; body: %s", exchange, op, err, excerpt(body))
	}
	return nil
}

// find returns the operation of method at req's path.
func (v *Validator) find(method string, req *http.Request) (*routers.Route, map[string]string, bool) {
	r := v.byMethod[method]
	if r == nil {
		return nil, nil, false
	}
	if req.Method != method {
		req = req.Clone(context.Background())
		req.Method = method
	}
	route, params, err := r.FindRoute(req)
	if err != nil || route == nil || route.Operation == nil {
		return nil, nil, false
	}
	return route, params, true
}

// checkUnrouted handles a request whose method and path match no operation.
func (v *Validator) checkUnrouted(req *http.Request, exchange string, status int, header http.Header, body []byte) error {
	var others []string
	for _, m := range methods {
		if m == req.Method {
			continue
		}
		if _, _, ok := v.find(m, req); ok {
			others = append(others, m)
		}
	}
	if len(others) > 0 {
		if status == http.StatusMethodNotAllowed {
			if err := v.checkError(header, body); err != nil {
				return fmt.Errorf("%s: %v; body: %s", exchange, err, excerpt(body))
			}
			return nil
		}
		return fmt.Errorf("%s: undocumented method: openapi.yaml documents %s only for %s; add the %s operation",
			exchange, req.URL.Path, strings.Join(others, ", "), req.Method)
	}
	if status == http.StatusNotFound && errorCode(body) == "route_not_found" {
		// No such route, and the server agrees.
		return v.checkError(header, body)
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// gin redirects /path/ to /path (RedirectTrailingSlash).
		if loc, err := url.Parse(header.Get("Location")); err == nil && loc.Path != "" && loc.Path != req.URL.Path {
			to := req.Clone(context.Background())
			to.URL = &url.URL{Path: loc.Path, RawPath: loc.RawPath}
			if _, _, ok := v.find(req.Method, to); ok {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: undocumented route: %s %s is not in internal/openapi/openapi.yaml; document it (every status it answers with, its body and its response shapes)",
		exchange, req.Method, req.URL.Path)
}

// checkError validates an error response produced outside any documented
// operation (405, 404 route_not_found).
func (v *Validator) checkError(header http.Header, body []byte) error {
	if mt, _, err := mime.ParseMediaType(header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fmt.Errorf("an error response must be application/json, not %q", header.Get("Content-Type"))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("an error response must be JSON: %v", err)
	}
	if err := v.errors.VisitJSON(value, openapi3.VisitAsResponse(), openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails()); err != nil {
		return fmt.Errorf("the error response does not match components/schemas/Error: %v", err)
	}
	return nil
}

// statuses lists the documented statuses of op.
func statuses(op *openapi3.Operation) []string {
	var out []string
	for s := range op.Responses.Map() {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

// errorCode returns error.code of an error body, or "".
func errorCode(body []byte) string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return b.Error.Code
}

// excerpt returns the start of body for error messages.
func excerpt(body []byte) string {
	const max = 600
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > max {
		return string(body[:max]) + "…"
	}
	return string(body)
}
