// Package shop is the brand's shop: the cross-border catalog (products, SKUs
// with customs data, categories, images), inventory, the Mini Program's
// customers (WeChat login, addresses, buyer identity, cart) and, later,
// checkout, orders and fulfilment.
package shop

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Tax categories of consumption tax. "general" goods carry none.
const TaxGeneral = "general"

// TaxRates are the cross-border (CBEC) import tax rates. They change by
// regulation, so they come from configuration: VAT, the share of the
// statutory tax that CBEC imports pay (70% since 2016), and the consumption
// tax rate of each taxed category.
type TaxRates struct {
	VAT         *big.Rat
	Factor      *big.Rat
	Consumption map[string]*big.Rat
}

// DefaultTaxRates are the rates in force (VAT 13%, 70% factor; premium
// cosmetics 15%, jewellery 10%, high-end watches 20% consumption tax).
func DefaultTaxRates() TaxRates {
	r, _ := ParseTaxRates("0.13", "0.7", "premium_cosmetics=0.15,jewelry=0.10,high_end_watches=0.20")
	return r
}

// ParseTaxRates reads rates written as decimals ("0.13") and a list of
// category=rate pairs.
func ParseTaxRates(vat, factor, consumption string) (TaxRates, error) {
	parse := func(name, s string) (*big.Rat, error) {
		r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
		if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
			return nil, fmt.Errorf("%s: %q is not a rate between 0 and 1 such as 0.13", name, s)
		}
		return r, nil
	}
	var out TaxRates
	var err error
	if out.VAT, err = parse("VAT", vat); err != nil {
		return out, err
	}
	if out.Factor, err = parse("CBEC factor", factor); err != nil {
		return out, err
	}
	out.Consumption = map[string]*big.Rat{TaxGeneral: new(big.Rat)}
	for _, kv := range strings.Split(consumption, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return out, fmt.Errorf("consumption tax: %q is not category=rate", kv)
		}
		r, err := parse("consumption tax "+k, v)
		if err != nil {
			return out, err
		}
		out.Consumption[strings.TrimSpace(k)] = r
	}
	return out, nil
}

// Categories lists the tax categories, sorted.
func (t TaxRates) Categories() []string {
	out := make([]string, 0, len(t.Consumption))
	for k := range t.Consumption {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Composite returns the CBEC composite rate of a category:
// (consumption + VAT) / (1 − consumption) × factor, exactly.
// 9.1% for general goods; ≈23.06% for premium cosmetics.
func (t TaxRates) Composite(category string) (*big.Rat, error) {
	ct, ok := t.Consumption[category]
	if !ok {
		return nil, fmt.Errorf("unknown tax category %q (known: %s)", category, strings.Join(t.Categories(), ", "))
	}
	num := new(big.Rat).Add(ct, t.VAT)
	den := new(big.Rat).Sub(big.NewRat(1, 1), ct)
	r := new(big.Rat).Quo(num, den)
	return r.Mul(r, t.Factor), nil
}

// Tax returns the CBEC tax in fen on a dutiable value in fen: value × the
// composite rate, rounded once, half up, to the fen.
func (t TaxRates) Tax(category string, valueFen int64) (int64, error) {
	r, err := t.Composite(category)
	if err != nil {
		return 0, err
	}
	return roundHalfUp(new(big.Rat).Mul(r, new(big.Rat).SetInt64(valueFen))), nil
}

// roundHalfUp rounds a non-negative rational to the nearest integer, halves up.
func roundHalfUp(r *big.Rat) int64 {
	num := new(big.Int).Set(r.Num())
	den := r.Denom()
	// floor((2·num + den) / (2·den))
	num.Mul(num, big.NewInt(2)).Add(num, den)
	q := new(big.Int).Quo(num, new(big.Int).Mul(den, big.NewInt(2)))
	return q.Int64()
}

// RatePercent formats a composite rate for people, e.g. "9.1%" or "23.06%".
func RatePercent(r *big.Rat) string {
	p := new(big.Rat).Mul(r, big.NewRat(100, 1))
	s := strings.TrimRight(strings.TrimRight(p.FloatString(2), "0"), ".")
	return s + "%"
}

// Landed is what the consumer pays for one unit of a SKU, as the brand
// should see it: the price, the CBEC tax on it, and the two together.
type Landed struct {
	Price    int64  `json:"price"`    // fen
	Tax      int64  `json:"tax"`      // fen, for one unit
	Total    int64  `json:"total"`    // fen, price + tax
	TaxRate  string `json:"tax_rate"` // e.g. "9.1%"
	Category string `json:"tax_category"`
}

// LandedPrice computes Landed for a unit price in fen.
func (t TaxRates) LandedPrice(category string, priceFen int64) (Landed, error) {
	r, err := t.Composite(category)
	if err != nil {
		return Landed{}, err
	}
	tax := roundHalfUp(new(big.Rat).Mul(r, new(big.Rat).SetInt64(priceFen)))
	return Landed{Price: priceFen, Tax: tax, Total: priceFen + tax, TaxRate: RatePercent(r), Category: category}, nil
}
