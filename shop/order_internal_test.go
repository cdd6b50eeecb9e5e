package shop

import (
	"testing"
)

// Hand-computed examples of the CBEC tax of an order. The composite rates:
// general (0 + 0.13) / 1 × 0.7 = 0.091; premium cosmetics
// (0.15 + 0.13) / 0.85 × 0.7 = 0.196 / 0.85 = 0.2305882352…
func TestPriceOrderByHand(t *testing.T) {
	r := DefaultTaxRates()
	general, _ := r.Composite(TaxGeneral)
	cosmetics, _ := r.Composite("premium_cosmetics")
	cases := []struct {
		name              string
		lines             []PricedLine
		freight, discount int64
		wantFreight       []int64
		wantTaxes         []int64
		wantTotal         int64
	}{
		// ¥129.00 × 2 + ¥10.00 freight: 26800 × 0.091 = 2438.8 → 2439.
		{"general", []PricedLine{{25800, general}}, 1000, 0, []int64{1000}, []int64{2439}, 25800 + 1000 + 2439},
		// ¥450.00 premium cream: 45000 × 0.230588… = 10376.47 → 10376.
		{"cosmetics", []PricedLine{{45000, cosmetics}}, 0, 0, []int64{0}, []int64{10376}, 45000 + 10376},
		// ¥100 general + ¥300 cosmetics, ¥10 freight split 250/750:
		// 10250 × 0.091 = 932.75 → 933; 30750 × 0.230588… = 7090.59 → 7091.
		{"mixed", []PricedLine{{10000, general}, {30000, cosmetics}}, 1000, 0, []int64{250, 750}, []int64{933, 7091}, 40000 + 1000 + 933 + 7091},
		// Half a fen rounds up: 50 × 0.091 = 4.55 → 5; 1 fen of freight on
		// three equal lines goes to the first.
		{"rounding", []PricedLine{{50, general}, {50, general}, {50, general}}, 1, 0, []int64{1, 0, 0}, []int64{5, 5, 5}, 150 + 1 + 15},
		// A discount lowers the dutiable value: (20000 + 500 − 1000) × 0.091 = 1774.5 → 1775.
		{"discount", []PricedLine{{20000, general}}, 500, 1000, []int64{500}, []int64{1775}, 20000 + 500 + 1775 - 1000},
	}
	for _, c := range cases {
		p := PriceOrder(c.lines, c.freight, c.discount)
		for i := range c.lines {
			if p.FreightShares[i] != c.wantFreight[i] || p.Taxes[i] != c.wantTaxes[i] {
				t.Errorf("%s line %d: freight %d tax %d, want %d and %d", c.name, i, p.FreightShares[i], p.Taxes[i], c.wantFreight[i], c.wantTaxes[i])
			}
		}
		if p.ActuralPaid != c.wantTotal {
			t.Errorf("%s: acturalPaid %d, want %d", c.name, p.ActuralPaid, c.wantTotal)
		}
		if p.ActuralPaid != p.GoodsValue+p.Freight+p.TaxTotal-p.Discount {
			t.Errorf("%s: acturalPaid %d ≠ goods %d + freight %d + tax %d − discount %d", c.name, p.ActuralPaid, p.GoodsValue, p.Freight, p.TaxTotal, p.Discount)
		}
	}
}

func TestAllocateAddsUp(t *testing.T) {
	for _, c := range []struct {
		total   int64
		weights []int64
	}{{1000, []int64{1, 1, 1}}, {7, []int64{3, 0, 5}}, {0, []int64{1}}, {99, []int64{0, 0}}, {1234567, []int64{17, 1, 999, 3}}} {
		parts := allocate(c.total, c.weights)
		var sum int64
		for _, p := range parts {
			if p < 0 {
				t.Errorf("%v: negative part %v", c, parts)
			}
			sum += p
		}
		if sum != c.total {
			t.Errorf("%d over %v: %v adds up to %d", c.total, c.weights, parts, sum)
		}
	}
	if got := allocate(1000, []int64{1, 3}); got[0] != 250 || got[1] != 750 {
		t.Errorf("1000 over 1:3 = %v", got)
	}
}

func TestFreightTemplates(t *testing.T) {
	free := int64(29900)
	weight := &ShippingTemplate{Kind: FreightWeight,
		Rule:      FreightRule{FirstWeightG: 1000, FirstFee: 1000, AdditionalWeightG: 500, AdditionalFee: 300},
		Regions:   []FreightRegion{{Provinces: []string{"540000"}, Rule: FreightRule{FirstWeightG: 1000, FirstFee: 3000, AdditionalWeightG: 500, AdditionalFee: 1000}}},
		FreeAbove: &free}
	flat := &ShippingTemplate{Kind: FreightFlat, Rule: FreightRule{Fee: 800}}
	cases := []struct {
		t            *ShippingTemplate
		goods, grams int64
		province     string
		want         int64
	}{
		{weight, 10000, 800, "310000", 1000},  // within the first kilo
		{weight, 10000, 1000, "310000", 1000}, // exactly the first kilo
		{weight, 10000, 1001, "310000", 1300}, // one started half-kilo more
		{weight, 10000, 2200, "310000", 1900}, // 1200 g more: 3 units
		{weight, 10000, 2200, "540000", 6000}, // Tibet: 3000 + 3 × 1000
		{weight, 29900, 5000, "540000", 0},    // free from ¥299
		{flat, 100, 99999, "110000", 800},     // flat ignores weight
		{nil, 100, 100, "110000", 0},          // no template: free
	}
	for i, c := range cases {
		if got := c.t.Freight(c.goods, c.grams, c.province); got != c.want {
			t.Errorf("case %d: %d, want %d", i, got, c.want)
		}
	}
}

func TestTransitionTable(t *testing.T) {
	if !CanTransition(OrderPendingPayment, OrderPaid) || CanTransition(OrderPaid, OrderPendingPayment) ||
		CanTransition(OrderClosed, OrderPaid) || CanTransition(OrderCancelled, OrderPaid) || CanTransition(OrderRefunded, OrderRefunding) {
		t.Fatal("transition table is wrong")
	}
	for from := range orderTransitions {
		found := false
		for _, s := range OrderStatuses {
			found = found || s == from
		}
		if !found {
			t.Errorf("unknown status %s in the table", from)
		}
	}
}
