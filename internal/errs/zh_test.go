package errs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	for en, want := range map[string]string{
		"no such order": "订单不存在",
		"an order that is declaring cannot be refunded":                                            "申报中的订单不能退款",
		"at most 1500 fen is left to refund on this order":                                         "该订单最多还可退 1500 分",
		"line 2: 1 left to ship, 3 requested":                                                      "第 2 行：还剩 1 件待发，请求发 3 件",
		"appid: is required":                                                                       "appid：必填",
		"the product cannot be sold cross-border yet: the product has no SKU; SKU A1: set a price": "商品还不能跨境销售：商品没有 SKU；SKU A1：请设置价格",
		"the product has no SKU; set a price":                                                      "商品没有 SKU；请设置价格",
		"something nobody translated":                                                              "",
		"the product cannot be sold cross-border yet: something nobody translated":                 "",
		"": "",
	} {
		if got := Translate(en); got != want {
			t.Errorf("Translate(%q) = %q, want %q", en, got, want)
		}
	}
}

func TestChineseOfError(t *testing.T) {
	if got := Chinese(L(Conflict, "x", "no such order", "自带的中文")); got != "自带的中文" {
		t.Errorf("an error's own Chinese comes first: %q", got)
	}
	if got := Chinese(E(Conflict, "x", "no such order")); got != "订单不存在" {
		t.Errorf("catalog: %q", got)
	}
	if got := Chinese(E(Conflict, "x", "untranslated")); got != "" {
		t.Errorf("unknown: %q", got)
	}
	if got := E(Invalid, "x", "a").WithZH("乙"); got.MessageZH != "乙" || got.Message != "a" {
		t.Errorf("WithZH: %+v", got)
	}
}

// TestCatalogMatchesSource fails when a message of the catalog is no longer
// written anywhere in the server's code (reworded or removed): its words
// between the placeholders must still be in some Go file.
func TestCatalogMatchesSource(t *testing.T) {
	var src strings.Builder
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "web") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, filepath.Join("internal", "errs")) {
			return nil
		}
		b, err := os.ReadFile(p)
		src.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code := src.String()
	check := func(en string) {
		for _, frag := range strings.Split(en, "{}") {
			frag = strings.Trim(frag, " :;,.()")
			if len(frag) < 3 {
				continue
			}
			q := strconv.Quote(frag)
			if !strings.Contains(code, frag) && !strings.Contains(code, q[1:len(q)-1]) {
				t.Errorf("catalog text %q: %q is not in the code any more", en, frag)
			}
		}
	}
	for en := range defaultCatalog.exact {
		check(en)
	}
	for _, p := range defaultCatalog.patterns {
		check(p.en)
	}
}

// BenchmarkTranslate measures the cost of a Chinese error message: a
// pattern near the end of the catalog, and a message it does not know.
func BenchmarkTranslate(b *testing.B) {
	for _, en := range []string{"this discrepancy is already resolved", "line 2: 1 left to ship, 3 requested",
		"the product cannot be sold cross-border yet: the product has no SKU; SKU A1: set a price", "something nobody translated"} {
		b.Run(en[:12], func(b *testing.B) {
			for range b.N {
				Translate(en)
			}
		})
	}
}
