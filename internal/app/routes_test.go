package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/openapi"
	"github.com/minishop/minishop/internal/testenv"
)

// TestRoutesAreDocumented compares the router with openapi.yaml both ways: a
// route added without its documentation fails, and so does documentation
// left behind by a removed route. Dev mode registers every route; without it
// the dev-only ones must be absent.
func TestRoutesAreDocumented(t *testing.T) {
	undocumented := func(r string) bool {
		// Not part of the APIs: Prometheus, the operators' queue monitor and
		// the console's files.
		return r == "GET /metrics" || strings.HasPrefix(r, "GET /platform/queues") ||
			strings.HasPrefix(r, "GET /admin") || strings.HasPrefix(r, "HEAD /admin")
	}
	for _, dev := range []bool{true, false} {
		e := testenv.New(t, func(c *config.Config) { c.Dev = dev })
		var got []string
		for _, r := range e.App.Router().Routes() {
			if s := r.Method + " " + r.Path; !undocumented(s) {
				got = append(got, s)
			}
		}
		want := openapi.Routes()
		if !dev {
			want = slices.DeleteFunc(want, func(r string) bool { return slices.Contains(openapi.DevOnlyRoutes(), r) })
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("dev=%v: the router serves %s, which openapi.yaml does not document", dev, g)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("dev=%v: openapi.yaml documents %s, which the router does not serve", dev, w)
			}
		}
	}
}
