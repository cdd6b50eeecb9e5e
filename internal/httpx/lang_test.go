package httpx

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/minishop/minishop/internal/errs"
)

func TestPrefersChinese(t *testing.T) {
	for h, want := range map[string]bool{
		"":                           false,
		"zh-CN":                      true,
		"zh_CN":                      true,
		"zh-CN,zh;q=0.9,en;q=0.8":    true,
		"en-US,en;q=0.9,zh-CN;q=0.8": false,
		"en;q=0.5, zh-Hans;q=0.7":    true,
		"fr":                         false,
		"zh;q=0":                     false,
		"en, zh":                     false,
	} {
		if got := PrefersChinese(h); got != want {
			t.Errorf("%q: %v, want %v", h, got, want)
		}
	}
}

func TestLocalizeError(t *testing.T) {
	type problem struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	e := errs.E(errs.Unprocessable, "not_publishable", "the product cannot be sold cross-border yet: the product has no SKU").
		WithDetails([]problem{{"skus", "the product has no SKU"}, {"x", "untranslated"}})
	got, lang := localizeError(e, "zh-CN,zh;q=0.9")
	if lang != "zh-CN" || got.Message != "商品还不能跨境销售：商品没有 SKU" {
		t.Fatalf("%s %q", lang, got.Message)
	}
	b, _ := json.Marshal(got.Details)
	if string(b) != `[{"field":"skus","message":"商品没有 SKU"},{"field":"x","message":"untranslated"}]` {
		t.Errorf("details: %s", b)
	}
	if e.Message == got.Message {
		t.Error("the original error must stay English")
	}
	if got, lang := localizeError(e, "en-US"); lang != "en" || got != e {
		t.Errorf("English client: %s %q", lang, got.Message)
	}
	if got, lang := localizeError(errs.E(errs.Conflict, "x", "untranslated"), "zh"); lang != "en" || got.Message != "untranslated" {
		t.Errorf("no translation: %s %q", lang, got.Message)
	}
}

func TestLocalizeText(t *testing.T) {
	ctx := context.Background()
	if Localize(ctx, "no such order") != "no such order" || Text(ctx, "a", "乙") != "a" {
		t.Error("without a Chinese request, English")
	}
	zh := WithChinese(ctx)
	if Localize(zh, "no such order") != "订单不存在" || Localize(zh, "untranslated") != "untranslated" || Text(zh, "a", "乙") != "乙" {
		t.Error("Chinese request")
	}
}
