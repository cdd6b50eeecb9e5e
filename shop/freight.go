package shop

// Freight: per-shop shipping templates. A template charges a flat fee or by
// weight (a first weight at one fee, then each additional unit of weight at
// another), may charge differently in some provinces, and may ship free
// from a goods value on. The shop's default template prices every order;
// without one, freight is zero.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/tenant"
)

// Kinds of shipping template.
const (
	FreightFlat   = "flat"
	FreightWeight = "weight"
)

// Limits of shipping templates.
const (
	maxShippingTemplates = 50
	maxFreightRegions    = 40
	maxFreightFee        = 100_000_00 // fen: ¥100,000, far above any parcel
)

// FreightRule is how a template charges: Fee for flat templates; for weight
// templates, FirstFee covers up to FirstWeightG grams, and each started
// AdditionalWeightG grams beyond costs AdditionalFee. Amounts are fen.
type FreightRule struct {
	Fee               int64 `json:"fee"`
	FirstWeightG      int64 `json:"first_weight_g"`
	FirstFee          int64 `json:"first_fee"`
	AdditionalWeightG int64 `json:"additional_weight_g"`
	AdditionalFee     int64 `json:"additional_fee"`
}

// FreightRegion charges Rule in the listed provinces (GB/T 2260 codes such
// as 540000) instead of the template's rule.
type FreightRegion struct {
	Provinces []string    `json:"provinces"`
	Rule      FreightRule `json:"rule"`
}

// ShippingTemplate is a shop's way of charging freight.
type ShippingTemplate struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Rule      FreightRule     `json:"rule"`
	Regions   []FreightRegion `json:"regions"`
	FreeAbove *int64          `json:"free_above"` // goods value (fen) from which freight is free
	IsDefault bool            `json:"is_default"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ShippingTemplateInput creates or replaces a template.
type ShippingTemplateInput struct {
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Rule      FreightRule     `json:"rule"`
	Regions   []FreightRegion `json:"regions"`
	FreeAbove *int64          `json:"free_above"`
	IsDefault bool            `json:"is_default"`
}

func (r FreightRule) validate(kind, field string) error {
	fee := func(name string, v int64) error {
		if v < 0 || v > maxFreightFee {
			return invalid(field+"."+name, fmt.Sprintf("%s must be 0 to %d fen", name, int64(maxFreightFee)))
		}
		return nil
	}
	switch kind {
	case FreightFlat:
		if r.FirstWeightG != 0 || r.FirstFee != 0 || r.AdditionalWeightG != 0 || r.AdditionalFee != 0 {
			return invalid(field, "a flat template charges fee only; leave the weight fields out")
		}
		return fee("fee", r.Fee)
	case FreightWeight:
		if r.Fee != 0 {
			return invalid(field+".fee", "a weight template charges first_fee and additional_fee; leave fee out")
		}
		if r.FirstWeightG < 1 || r.FirstWeightG > 1_000_000 {
			return invalid(field+".first_weight_g", "first_weight_g must be 1 to 1,000,000 grams")
		}
		if r.AdditionalWeightG < 1 || r.AdditionalWeightG > 1_000_000 {
			return invalid(field+".additional_weight_g", "additional_weight_g must be 1 to 1,000,000 grams")
		}
		if err := fee("first_fee", r.FirstFee); err != nil {
			return err
		}
		return fee("additional_fee", r.AdditionalFee)
	}
	return invalid("kind", "kind is flat or weight")
}

func (in *ShippingTemplateInput) validate() error {
	in.Name = cleanText(in.Name)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 60 || hasControl(in.Name) {
		return invalid("name", "name the template (1 to 60 characters)")
	}
	if in.Kind != FreightFlat && in.Kind != FreightWeight {
		return invalid("kind", "kind is flat or weight")
	}
	if err := in.Rule.validate(in.Kind, "rule"); err != nil {
		return err
	}
	if in.FreeAbove != nil && (*in.FreeAbove < 0 || *in.FreeAbove > 10_000_000_00) {
		return invalid("free_above", "free_above is a goods value in fen, 0 or more")
	}
	if len(in.Regions) > maxFreightRegions {
		return invalid("regions", fmt.Sprintf("at most %d regions", maxFreightRegions))
	}
	if in.Regions == nil {
		in.Regions = []FreightRegion{}
	}
	seen := map[string]bool{}
	for i, r := range in.Regions {
		f := "regions[" + strconv.Itoa(i) + "]"
		if len(r.Provinces) == 0 || len(r.Provinces) > 34 {
			return invalid(f+".provinces", "list 1 to 34 province codes")
		}
		for j, p := range r.Provinces {
			p = strings.TrimSpace(p)
			if !sixDigits.MatchString(p) || !strings.HasSuffix(p, "0000") || !provinces[p[:2]] {
				return invalid(f+".provinces", "province codes are 6 digits such as 540000 (Tibet)")
			}
			if seen[p] {
				return invalid(f+".provinces", "province "+p+" is in two regions")
			}
			seen[p] = true
			in.Regions[i].Provinces[j] = p
		}
		if err := r.Rule.validate(in.Kind, f+".rule"); err != nil {
			return err
		}
	}
	return nil
}

// Freight computes what the template charges for goods of value goodsFen
// and weight weightG sent to province (a GB/T 2260 province code).
func (t *ShippingTemplate) Freight(goodsFen, weightG int64, province string) int64 {
	if t == nil {
		return 0
	}
	if t.FreeAbove != nil && goodsFen >= *t.FreeAbove {
		return 0
	}
	rule := t.Rule
	for _, r := range t.Regions {
		for _, p := range r.Provinces {
			if p == province {
				rule = r.Rule
			}
		}
	}
	if t.Kind == FreightFlat {
		return rule.Fee
	}
	fee := rule.FirstFee
	if extra := weightG - rule.FirstWeightG; extra > 0 && rule.AdditionalWeightG > 0 {
		units := (extra + rule.AdditionalWeightG - 1) / rule.AdditionalWeightG
		fee += units * rule.AdditionalFee
	}
	return fee
}

type templateRow struct {
	ID        int64
	Name      string
	Kind      string
	Rule      string
	Regions   string
	FreeAbove *int64
	IsDefault bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (r templateRow) template() ShippingTemplate {
	t := ShippingTemplate{ID: r.ID, Name: r.Name, Kind: r.Kind, FreeAbove: r.FreeAbove, IsDefault: r.IsDefault,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Regions: []FreightRegion{}}
	_ = json.Unmarshal([]byte(r.Rule), &t.Rule)
	_ = json.Unmarshal([]byte(r.Regions), &t.Regions)
	return t
}

const templateColumns = `id, name, kind, rule::text AS rule, regions::text AS regions, free_above, is_default, created_at, updated_at`

var errNoTemplate = errs.E(errs.NotFound, "shipping_template_not_found", "no such shipping template")

// ShippingTemplates lists the shop's templates, the default first.
func (s *Service) ShippingTemplates(ctx context.Context) ([]ShippingTemplate, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var rows []templateRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT `+templateColumns+` FROM shipping_templates WHERE tenant_id = ? ORDER BY is_default DESC, id LIMIT ?`,
			tid, maxShippingTemplates).Scan(&rows).Error
	})
	out := make([]ShippingTemplate, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.template())
	}
	return out, err
}

// ShippingTemplate returns one template of the shop.
func (s *Service) ShippingTemplate(ctx context.Context, id int64) (*ShippingTemplate, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var rows []templateRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT `+templateColumns+` FROM shipping_templates WHERE tenant_id = ? AND id = ?`, tid, id).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errNoTemplate
	}
	t := rows[0].template()
	return &t, nil
}

// defaultTemplate returns the shop's default template in tx, or nil.
func defaultTemplate(tx *gorm.DB, tid int64) (*ShippingTemplate, error) {
	var rows []templateRow
	if err := tx.Raw(`SELECT `+templateColumns+` FROM shipping_templates WHERE tenant_id = ? AND is_default`, tid).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	t := rows[0].template()
	return &t, nil
}

// SaveShippingTemplate creates (id 0) or replaces a template. The shop's
// first template, and any saved with is_default, becomes the default; a
// default stays one until another takes its place.
func (s *Service) SaveShippingTemplate(ctx context.Context, id int64, in ShippingTemplateInput) (*ShippingTemplate, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	rule, _ := json.Marshal(in.Rule)
	regions, _ := json.Marshal(in.Regions)
	var out []templateRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		// Serialise the shop's template writes: one default at a time.
		var one []int
		if err := tx.Raw(`SELECT 1 FROM pg_advisory_xact_lock(hashtextextended('shipping-templates/' || ?::text, 0))`, strconv.FormatInt(tid, 10)).Scan(&one).Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM shipping_templates WHERE tenant_id = ?`, tid).Scan(&n).Error; err != nil {
			return err
		}
		makeDefault := in.IsDefault
		if id == 0 {
			if n >= maxShippingTemplates {
				return errs.E(errs.Unprocessable, "too_many_shipping_templates", fmt.Sprintf("a shop keeps at most %d shipping templates", maxShippingTemplates))
			}
			makeDefault = makeDefault || n == 0
		}
		if makeDefault {
			if err := tx.Exec(`UPDATE shipping_templates SET is_default = false WHERE tenant_id = ? AND is_default AND id <> ?`, tid, id).Error; err != nil {
				return err
			}
		}
		if id == 0 {
			if err := tx.Raw(`INSERT INTO shipping_templates (tenant_id, name, kind, rule, regions, free_above, is_default)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+templateColumns,
				tid, in.Name, in.Kind, string(rule), string(regions), in.FreeAbove, makeDefault).Scan(&out).Error; err != nil {
				return err
			}
		} else {
			if err := tx.Raw(`UPDATE shipping_templates SET name = ?, kind = ?, rule = ?, regions = ?, free_above = ?,
				is_default = is_default OR ?, updated_at = now() WHERE tenant_id = ? AND id = ? RETURNING `+templateColumns,
				in.Name, in.Kind, string(rule), string(regions), in.FreeAbove, makeDefault, tid, id).Scan(&out).Error; err != nil {
				return err
			}
			if len(out) == 0 {
				return errNoTemplate
			}
		}
		return tenant.Audit(ctx, tx, "shipping_template.saved", "shipping_template:"+strconv.FormatInt(out[0].ID, 10),
			map[string]any{"name": in.Name, "kind": in.Kind, "is_default": out[0].IsDefault})
	})
	if err != nil {
		return nil, err
	}
	t := out[0].template()
	return &t, nil
}

// DeleteShippingTemplate deletes a template. Deleting the default leaves
// the shop without one (free shipping) until another is made the default.
func (s *Service) DeleteShippingTemplate(ctx context.Context, id int64) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM shipping_templates WHERE tenant_id = ? AND id = ?`, tid, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNoTemplate
		}
		return tenant.Audit(ctx, tx, "shipping_template.deleted", "shipping_template:"+strconv.FormatInt(id, 10), nil)
	})
}
