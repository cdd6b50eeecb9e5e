package shop

import (
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []cursor{
		{sort: SortNewest, a: 10, b: 1_700_000_000_123_456, id: 42},
		{sort: SortNewest, a: -3, b: -1, id: 1},
		{sort: SortPriceAsc, a: 29900, id: 7},
		{sort: SortPriceDesc, a: 0, id: 7},
		{sort: SortSales, a: 1 << 40, id: 1 << 50},
	} {
		got, err := parseCursor(c.String(), c.sort)
		if err != nil || got != c {
			t.Errorf("%+v: %+v, %v", c, got, err)
		}
		for _, other := range []string{SortNewest, SortPriceAsc, SortPriceDesc, SortSales} {
			if other != c.sort {
				if _, err := parseCursor(c.String(), other); err == nil {
					t.Errorf("a %s cursor accepted for %s", c.sort, other)
				}
			}
		}
	}
	for _, bad := range []string{"", "!!", "bmV3ZXN0LjEuMi4z=", cursor{sort: SortPriceAsc, a: 1, b: 5, id: 2}.String(),
		cursor{sort: SortSales, a: 1, id: 0}.String(), strings.Repeat("A", 200)} {
		if _, err := parseCursor(bad, SortPriceAsc); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(cursor{sort: SortNewest, a: 1, b: 2, id: 3}.String(), SortNewest)
	f.Add("bmV3ZXN0Li0xLjIuMw", SortNewest)
	f.Fuzz(func(t *testing.T, v, sort string) {
		c, err := parseCursor(v, sort)
		if err != nil {
			return
		}
		// What is accepted round-trips and names a product.
		if c.id <= 0 || c.sort != sort {
			t.Fatalf("accepted %q as %+v", v, c)
		}
		if again, err := parseCursor(c.String(), sort); err != nil || again != c {
			t.Fatalf("%q: %+v does not round-trip: %+v %v", v, c, again, err)
		}
	})
}

func TestETagMatches(t *testing.T) {
	const tag = `"abc"`
	for header, want := range map[string]bool{
		``: false, `"abc"`: true, `W/"abc"`: true, `"x", "abc"`: true, ` "x" ,W/"abc" `: true, `*`: true,
		`"abcd"`: false, `abc`: false, `"ab"`: false,
	} {
		if got := etagMatches(header, tag); got != want {
			t.Errorf("If-None-Match %q against %s: %v", header, tag, got)
		}
	}
}

func TestPickFallsBackInAStableOrder(t *testing.T) {
	for _, c := range []struct {
		t      Text
		locale string
		want   string
	}{
		{Text{"zh-CN": "精华", "en": "Serum"}, LocaleZH, "精华"},
		{Text{"zh-CN": "精华", "en": "Serum"}, LocaleEN, "Serum"},
		{Text{"en": "Serum"}, LocaleZH, "Serum"},
		{Text{"zh-CN": "精华", "en": ""}, LocaleEN, "精华"},
		{Text{"sv": "Serum SV", "de": "Serum DE"}, LocaleZH, "Serum DE"},
		{Text{}, LocaleZH, ""},
		{nil, LocaleEN, ""},
	} {
		for range 20 { // map order varies between runs
			if got := pick(c.t, c.locale); got != c.want {
				t.Fatalf("pick(%v, %s) = %q, want %q", c.t, c.locale, got, c.want)
			}
		}
	}
}

func TestListKeysDifferWhenRequestsDo(t *testing.T) {
	cur := cursor{sort: SortNewest, a: 1, b: 2, id: 3}
	qs := []listQuery{
		{locale: LocaleZH, sort: SortNewest, limit: 20},
		{locale: LocaleEN, sort: SortNewest, limit: 20},
		{locale: LocaleZH, sort: SortSales, limit: 20},
		{locale: LocaleZH, sort: SortNewest, limit: 21},
		{locale: LocaleZH, sort: SortNewest, limit: 20, category: 5},
		{locale: LocaleZH, sort: SortNewest, limit: 20, after: &cur},
		{locale: LocaleZH, sort: SortNewest, limit: 20, q: "5/"},
		{locale: LocaleZH, sort: SortNewest, limit: 20, q: "/"},
	}
	seen := map[string]int{}
	for i, q := range qs {
		if j, dup := seen[q.key()]; dup {
			t.Errorf("requests %d and %d share the key %q", j, i, q.key())
		}
		seen[q.key()] = i
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                          false,
		"identity":                  false,
		"gzip":                      true,
		"GZIP":                      true,
		"br, gzip;q=0.8":            true,
		"x-gzip":                    true,
		"gzip;q=0":                  false,
		"gzip; q=0.0, identity":     false,
		"*":                         true,
		"*;q=0":                     false,
		"*;q=0, gzip":               true, // named beats the wildcard, in any order
		"gzip;q=0, *":               false,
		"deflate, br":               false,
		"gzip;q=0.5, x-gzip;q=0":    true,
		"gzip;q=nonsense, identity": true, // an unreadable q is taken as 1
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
