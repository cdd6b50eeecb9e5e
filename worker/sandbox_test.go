package worker_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/minishop/minishop/internal/testenv"
)

// sandboxLoginCode plays wx.login() on the sandbox.
func sandboxLoginCode(t *testing.T, e *testenv.Env, appID string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"appid": appID})
	resp, err := http.Post(e.Sandbox.URL+"/sandbox/v1/wx-login-code", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Code == "" {
		t.Fatalf("wx-login-code: %d %v", resp.StatusCode, err)
	}
	return out.Code
}
