package openapi

import (
	"strings"
	"testing"
)

func TestMarkdownEscapesAndRenders(t *testing.T) {
	got := string(markdown("Use `<b>` and **bold** or *this*; <script>alert(1)</script>\n\n- one\n  more\n- two\n\n## Title\nText"))
	for _, want := range []string{
		"<code>&lt;b&gt;</code>", "<strong>bold</strong>", "<em>this</em>", "&lt;script&gt;",
		"<ul><li>one more</li><li>two</li></ul>", "<h4>Title</h4><p>Text</p>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "<script>") {
		t.Errorf("markup passed through: %s", got)
	}
	if s := string(markdown("a * b * c and 2^53")); strings.Contains(s, "<em>") {
		t.Errorf("stray asterisks became emphasis: %s", s)
	}
}

func TestGinPath(t *testing.T) {
	if got := ginPath("/api/admin/v1/tenants/{slug}/agency-access/{agency_id}/approve"); got != "/api/admin/v1/tenants/:slug/agency-access/:agency_id/approve" {
		t.Fatal(got)
	}
}
