package errs

import (
	"regexp"
	"strconv"
	"strings"
)

// Chinese is e's message in Simplified Chinese: its own MessageZH, else the
// catalog's translation of Message, else "" (the caller keeps English).
func Chinese(e *Error) string {
	if e == nil {
		return ""
	}
	if e.MessageZH != "" {
		return e.MessageZH
	}
	return Translate(e.Message)
}

// Translate returns the Chinese of an English text the server writes (an
// error message, a checklist item, a row error), or "" when the catalog
// does not know it. Texts are matched whole; a text of several parts joined
// by "; " is translated part by part, and only when every part is known.
func Translate(en string) string {
	return defaultCatalog.translate(en, 0)
}

// Or returns the Chinese of en, or en itself when the catalog does not know it.
func Or(en string) string { return defaultCatalog.Or(en) }

// Catalog is a list of English texts and their Chinese. In English, {}
// stands for any text; in Chinese, {1}, {2}… insert what the n-th {} matched
// as it is, {t1} translated (the whole text stays untranslated when it
// cannot be), {r1} translated when possible and as it is otherwise, {s1} as
// an order, declaration or refund state. A catalog other than the default
// one falls back to the default one for what it does not know.
type Catalog struct {
	exact    map[string]string
	patterns []pattern
}

type pattern struct {
	en string
	re *regexp.Regexp
	zh string
}

// NewCatalog compiles pairs of (English, Chinese) texts; it panics on a
// malformed pair, which is a programming error caught by the tests.
func NewCatalog(pairs ...[2]string) *Catalog {
	c := &Catalog{exact: map[string]string{}}
	for _, p := range pairs {
		c.Add(p[0], p[1])
	}
	return c
}

// Add adds one text; see Catalog.
func (c *Catalog) Add(en, zh string) {
	if !strings.Contains(en, "{}") {
		c.exact[en] = zh
		return
	}
	parts := strings.Split(en, "{}")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	c.patterns = append(c.patterns, pattern{en: en, re: regexp.MustCompile(`^(?s:` + strings.Join(parts, "(.+?)") + `)$`), zh: zh})
}

// Translate is Translate with this catalog.
func (c *Catalog) Translate(en string) string { return c.translate(en, 0) }

// Or returns the Chinese of en, or en itself when the catalog does not know it.
func (c *Catalog) Or(en string) string {
	if zh := c.translate(en, 0); zh != "" {
		return zh
	}
	return en
}

var fill = regexp.MustCompile(`\{([tsr]?)(\d)\}`)

func (c *Catalog) translate(en string, depth int) string {
	en = strings.TrimSpace(en)
	if en == "" || depth > 4 {
		return ""
	}
	if zh, ok := c.exact[en]; ok {
		return zh
	}
	for _, p := range c.patterns {
		m := p.re.FindStringSubmatch(en)
		if m == nil {
			continue
		}
		ok := true
		out := fill.ReplaceAllStringFunc(p.zh, func(ph string) string {
			g := fill.FindStringSubmatch(ph)
			n, _ := strconv.Atoi(g[2])
			if n >= len(m) {
				return ph
			}
			v := m[n]
			switch g[1] {
			case "t", "r":
				if z := c.translate(v, depth+1); z != "" {
					return z
				}
				ok = g[1] == "r" && ok
			case "s":
				if z, known := stateZH[v]; known {
					return z
				}
			}
			return v
		})
		if ok {
			return out
		}
	}
	if c != defaultCatalog {
		if zh := defaultCatalog.translate(en, depth); zh != "" {
			return zh
		}
	}
	if strings.Contains(en, "; ") {
		parts := strings.Split(en, "; ")
		for i, p := range parts {
			if parts[i] = c.translate(p, depth+1); parts[i] == "" {
				return ""
			}
		}
		return strings.Join(parts, "；")
	}
	return ""
}

// stateZH names the states of orders, declarations, refunds and uploads as
// the console does.
var stateZH = map[string]string{
	"pending_payment": "待支付", "paid": "已支付", "declaring": "申报中", "declared": "已申报",
	"customs_rejected": "海关退单", "shipped": "已发货", "delivered": "已送达", "completed": "已完成",
	"cancelled": "已取消", "closed": "已关闭", "refunding": "退款中", "partially_refunded": "部分退款",
	"refunded": "已退款", "pending": "待发送", "sent": "已发送", "received": "已接收", "accepted": "已通过",
	"rejected": "已退单", "failed": "失败", "requested": "已申请", "processing": "处理中",
	"succeeded": "成功", "abnormal": "异常", "draft": "草稿", "published": "已发布", "archived": "已归档",
	"test": "测试", "live": "正式",
}
