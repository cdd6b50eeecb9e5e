package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// writeControlError writes the control API's error shape,
// {"error":{"code":…,"message":…}}.
func writeControlError(w http.ResponseWriter, status int, code, message string) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, ctJSON, status, struct {
		Error body `json:"error"`
	}{body{code, message}})
}

// decodeControl strictly decodes a control request body into v: JSON only,
// one object, no unknown fields, at most maxBody bytes. On failure it writes
// the error reply and returns false.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeControlError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// A second value or trailing garbage means the caller sent
		// something other than what it meant to.
		var extra json.RawMessage
		switch err2 := dec.Decode(&extra); {
		case err2 == io.EOF:
		case errors.As(err2, new(*http.MaxBytesError)):
			err = err2
		default:
			err = errTrailing
		}
	}
	if err == nil {
		return true
	}
	var message string
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		writeControlError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", mbe.Limit))
		return false
	case errors.Is(err, errTrailing):
		message = "the body must hold exactly one JSON object"
	case errors.Is(err, io.EOF):
		message = "the body is empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		message = "the JSON body ends too early"
	case errors.As(err, &syn):
		message = fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			message = "the body must be a JSON object"
		} else {
			message = fmt.Sprintf("field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the field name is the
		// useful part for the caller.
		message = fmt.Sprintf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		message = "the body is not valid JSON"
	}
	writeControlError(w, http.StatusBadRequest, "invalid", message)
	return false
}

var errTrailing = errors.New("trailing data")

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "number"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return goKind
}

// controlApps serves POST /sandbox/v1/apps: {"key"} -> {"appid","secret"}.
func (s *Server) controlApps(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key string `json:"key"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Key == "" || len(req.Key) > 256 {
		writeControlError(w, http.StatusBadRequest, "invalid", `"key" is required and must be at most 256 bytes`)
		return
	}
	appID, secret := AppFor(s.seed, req.Key)
	writeJSON(w, ctJSON, http.StatusOK, struct {
		AppID  string `json:"appid"`
		Secret string `json:"secret"`
	}{appID, secret})
}

// faultAPIs are the WeChat routes a fault can be queued for.
var faultAPIs = map[string]bool{"jscode2session": true, "stable_token": true, "token": true}

// controlFaults serves POST /sandbox/v1/faults: the next count calls of api
// for appid (with valid credentials) answer errcode.
func (s *Server) controlFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID   string `json:"appid"`
		API     string `json:"api"`
		ErrCode int    `json:"errcode"`
		Count   *int   `json:"count"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	count := 1
	if req.Count != nil {
		count = *req.Count
	}
	switch {
	case !validAppID(req.AppID):
		writeControlError(w, http.StatusBadRequest, "invalid", `"appid" must be "wx" followed by 16 lowercase hex characters`)
		return
	case !faultAPIs[req.API]:
		writeControlError(w, http.StatusBadRequest, "invalid", `"api" must be "jscode2session", "stable_token" or "token"`)
		return
	case req.ErrCode == 0:
		writeControlError(w, http.StatusBadRequest, "invalid", `"errcode" must be a non-zero WeChat errcode`)
		return
	case count < 1 || count > maxFaultsQueued:
		writeControlError(w, http.StatusBadRequest, "invalid", fmt.Sprintf(`"count" must be between 1 and %d`, maxFaultsQueued))
		return
	}

	s.mu.Lock()
	a := s.app(req.AppID)
	queued := 0
	for _, f := range a.faults[req.API] {
		queued += f.left
	}
	ok := queued+count <= maxFaultsQueued
	if ok {
		a.faults[req.API] = append(a.faults[req.API], fault{errcode: req.ErrCode, left: count})
		queued += count
	}
	s.mu.Unlock()
	if !ok {
		writeControlError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("at most %d faults may be queued per app and api; %d already are", maxFaultsQueued, queued))
		return
	}
	writeJSON(w, ctJSON, http.StatusOK, struct {
		AppID  string `json:"appid"`
		API    string `json:"api"`
		Queued int    `json:"queued"`
	}{req.AppID, req.API, queued})
}

// controlExpireToken serves POST /sandbox/v1/expire-token: every live token
// of the app expires now, so its users get 42001 and must refresh.
func (s *Server) controlExpireToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID string `json:"appid"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if !validAppID(req.AppID) {
		writeControlError(w, http.StatusBadRequest, "invalid", `"appid" must be "wx" followed by 16 lowercase hex characters`)
		return
	}
	n := s.expireTokens(req.AppID)
	writeJSON(w, ctJSON, http.StatusOK, struct {
		AppID   string `json:"appid"`
		Expired int    `json:"expired"`
	}{req.AppID, n})
}
