package shop

import "testing"

// Hand-computed examples. General goods: 13% × 70% = 9.1%.
// Premium cosmetics: (0.15 + 0.13) / 0.85 × 0.7 = 0.2305882352941...
func TestLandedPrice(t *testing.T) {
	r := DefaultTaxRates()
	cases := []struct {
		cat        string
		price, tax int64
		rate       string
	}{
		{"general", 10000, 910, "9.1%"},  // ¥100.00 → ¥9.10
		{"general", 19900, 1811, "9.1%"}, // 1810.9 → 1811
		{"general", 50, 5, "9.1%"},       // 4.55 → 5 (half up)
		{"general", 0, 0, "9.1%"},
		{"premium_cosmetics", 10000, 2306, "23.06%"},  // 2305.88 → 2306
		{"premium_cosmetics", 59900, 13812, "23.06%"}, // 13812.235… → 13812
		{"high_end_watches", 100000, 28875, "28.88%"}, // (0.20 + 0.13) / 0.80 × 0.7 = 0.28875
	}
	for _, c := range cases {
		l, err := r.LandedPrice(c.cat, c.price)
		if err != nil {
			t.Fatal(err)
		}
		if l.Tax != c.tax || l.Total != c.price+c.tax || l.TaxRate != c.rate {
			t.Errorf("%s %d: got tax %d total %d rate %s; want tax %d rate %s", c.cat, c.price, l.Tax, l.Total, l.TaxRate, c.tax, c.rate)
		}
	}
	if _, err := r.LandedPrice("fireworks", 100); err == nil {
		t.Error("an unknown tax category must be refused")
	}
}

func TestParseTaxRates(t *testing.T) {
	if _, err := ParseTaxRates("13", "0.7", ""); err == nil {
		t.Error("a VAT of 13 (not 0.13) must be refused")
	}
	if _, err := ParseTaxRates("0.13", "0.7", "cosmetics"); err == nil {
		t.Error("a category without a rate must be refused")
	}
	r, err := ParseTaxRates("0.09", "0.7", "")
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := r.LandedPrice("general", 10000); l.Tax != 630 {
		t.Errorf("with VAT 9%% the tax on ¥100 is ¥6.30, got %d", l.Tax)
	}
}
