package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

func TestControlErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		code        string
		msgContains string
	}{
		{"unknown field", "POST", "/sandbox/v1/wx-login-code", "application/json", `{"appid":"` + e.appID + `","open_id":"x"}`, 400, "invalid", `"open_id"`},
		{"unknown field in apps", "POST", "/sandbox/v1/apps", "application/json", `{"key":"k","secret":"s"}`, 400, "invalid", `"secret"`},
		{"missing appid", "POST", "/sandbox/v1/wx-login-code", "application/json", `{}`, 400, "invalid", `"appid" is required`},
		{"malformed appid", "POST", "/sandbox/v1/wx-login-code", "application/json", `{"appid":"wxABCDEF0123456789"}`, 400, "invalid", "16 lowercase hex"},
		{"bad openid", "POST", "/sandbox/v1/wx-login-code", "application/json", `{"appid":"` + e.appID + `","openid":"nope"}`, 400, "invalid", `"openid"`},
		{"openid and user", "POST", "/sandbox/v1/wx-login-code", "application/json", `{"appid":"` + e.appID + `","openid":"oUigJ47QGkNOOXUjHkii5LyJbukw","user":"u"}`, 400, "invalid", "not both"},
		{"bad unionid", "POST", "/sandbox/v1/wx-login-code", "application/json", `{"appid":"` + e.appID + `","unionid":"has space"}`, 400, "invalid", `"unionid"`},
		{"wrong type", "POST", "/sandbox/v1/faults", "application/json", `{"appid":"` + e.appID + `","api":"jscode2session","errcode":"40226"}`, 400, "invalid", `"errcode" must be a JSON number`},
		{"not an object", "POST", "/sandbox/v1/apps", "application/json", `["k"]`, 400, "invalid", "JSON object"},
		{"malformed JSON", "POST", "/sandbox/v1/apps", "application/json", `{"key":`, 400, "invalid", "ends too early"},
		{"two values", "POST", "/sandbox/v1/apps", "application/json", `{"key":"a"}{"key":"b"}`, 400, "invalid", "exactly one"},
		{"empty body", "POST", "/sandbox/v1/apps", "application/json", ``, 400, "invalid", "empty"},
		{"empty key", "POST", "/sandbox/v1/apps", "application/json", `{"key":""}`, 400, "invalid", `"key"`},
		{"too large", "POST", "/sandbox/v1/apps", "application/json", `{"key":"` + strings.Repeat("k", 70<<10) + `"}`, 413, "too_large", "65536"},
		{"form content type", "POST", "/sandbox/v1/apps", "application/x-www-form-urlencoded", `key=k`, 415, "unsupported_media_type", "application/json"},
		{"GET", "GET", "/sandbox/v1/apps", "", ``, 405, "method_not_allowed", "POST"},
		{"fault api", "POST", "/sandbox/v1/faults", "application/json", `{"appid":"` + e.appID + `","api":"pay","errcode":1}`, 400, "invalid", `"api"`},
		{"fault errcode zero", "POST", "/sandbox/v1/faults", "application/json", `{"appid":"` + e.appID + `","api":"stable_token"}`, 400, "invalid", `"errcode"`},
		{"fault count", "POST", "/sandbox/v1/faults", "application/json", `{"appid":"` + e.appID + `","api":"stable_token","errcode":-1,"count":0}`, 400, "invalid", `"count"`},
		{"expire-token appid", "POST", "/sandbox/v1/expire-token", "application/json", `{"appid":"tenant:42"}`, 400, "invalid", `"appid"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.controlRaw(tc.method, tc.path, tc.contentType, []byte(tc.body))
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("= %d %v, want %d with code %q", r.Status, r.Body, tc.status, tc.code)
			}
			if !strings.Contains(r.errorMessage(), tc.msgContains) {
				t.Errorf("message %q does not mention %q", r.errorMessage(), tc.msgContains)
			}
		})
	}
}

func TestControlAcceptsMissingContentType(t *testing.T) {
	e := newEnv(t)
	r := e.controlRaw(http.MethodPost, "/sandbox/v1/apps", "", []byte(`{"key":"k"}`))
	if r.Status != http.StatusOK || r.Body["appid"] == nil {
		t.Errorf("= %d %v, want 200 with an appid", r.Status, r.Body)
	}
}

func TestFaultQueueIsBounded(t *testing.T) {
	e := newEnv(t)
	e.fault(e.appID, "stable_token", -1, maxFaultsQueued)
	r := e.control("/sandbox/v1/faults", map[string]any{"appid": e.appID, "api": "stable_token", "errcode": -1, "count": 1})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), "already") {
		t.Errorf("= %d %v, want 400 refusing more faults", r.Status, r.Body)
	}
}

func TestControlUnknownEndpoint(t *testing.T) {
	e := newEnv(t)
	r := e.controlRaw(http.MethodPost, "/sandbox/v1/nope", "application/json", []byte(`{}`))
	if r.Status != http.StatusNotFound || r.errorCode() != "not_found" {
		t.Errorf("= %d %v, want 404 not_found", r.Status, r.Body)
	}
}
