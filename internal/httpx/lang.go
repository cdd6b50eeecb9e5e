package httpx

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/minishop/minishop/internal/errs"
)

// PrefersChinese reads an Accept-Language header: true when a zh tag
// (zh, zh-CN, zh-Hans, WeChat's zh_CN…) ranks above every en tag, q values
// honoured and ties going to the tag listed first. Other languages are
// ignored: a client that names neither gets English.
func PrefersChinese(header string) bool {
	bestZH, bestEN := -1.0, -1.0
	i := 0
	for tag, q := range Weighted(header) {
		q -= float64(i) * 1e-6 // earlier wins a tie
		i++
		tag = strings.ToLower(tag)
		switch {
		case tag == "zh" || strings.HasPrefix(tag, "zh-") || strings.HasPrefix(tag, "zh_"):
			bestZH = max(bestZH, q)
		case tag == "en" || strings.HasPrefix(tag, "en-") || strings.HasPrefix(tag, "en_"):
			bestEN = max(bestEN, q)
		}
	}
	return bestZH > 0 && bestZH > bestEN
}

type langKey struct{}

// WithChinese returns ctx marked as a request that prefers Chinese (set by
// RequestID from Accept-Language; also for tests of code that reads Chinese).
func WithChinese(ctx context.Context) context.Context {
	return context.WithValue(ctx, langKey{}, true)
}

// Chinese reports whether the request of ctx prefers Chinese texts. Outside
// a request (tasks, the CLI) it is false: English.
func Chinese(ctx context.Context) bool {
	v, _ := ctx.Value(langKey{}).(bool)
	return v
}

// Text returns zh when the request of ctx prefers Chinese, else en.
func Text(ctx context.Context, en, zh string) string {
	if Chinese(ctx) && zh != "" {
		return zh
	}
	return en
}

// Localize returns a stored English text (a reason, an explanation) in
// Chinese when the request of ctx prefers it and the catalog knows it;
// otherwise the text unchanged.
func Localize(ctx context.Context, en string) string {
	if !Chinese(ctx) {
		return en
	}
	return errs.Or(en)
}

// localizeError picks the language of e's message for a client whose
// Accept-Language is header. It returns e (or a copy in Chinese, with the
// "message" texts of its details translated where the catalog knows them)
// and the Content-Language of the message: zh-CN or en. A client that
// prefers Chinese and gets en knows the message has no translation.
func localizeError(e *errs.Error, header string) (*errs.Error, string) {
	if !PrefersChinese(header) {
		return e, "en"
	}
	zh := errs.Chinese(e)
	if zh == "" {
		return e, "en"
	}
	c := *e
	c.Message = zh
	c.Details = localizeDetails(e.Details)
	return &c, "zh-CN"
}

// localizeDetails translates the "message" strings anywhere in details
// (checklist items, row errors), leaving the rest as it is.
func localizeDetails(d any) any {
	if d == nil {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil || !strings.Contains(string(b), `"message"`) {
		return d
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return d
	}
	changed := false
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				if s, ok := y.(string); ok && k == "message" {
					if zh := errs.Translate(s); zh != "" {
						t[k], changed = zh, true
					}
					continue
				}
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	if !changed {
		return d
	}
	return v
}
