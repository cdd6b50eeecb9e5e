package shop

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// sheetWriter writes rows of the catalog template in one format.
type sheetWriter interface {
	Row(rec []string) error
	Close() error
}

type csvSheet struct{ w *csv.Writer }

func (c *csvSheet) Row(rec []string) error { return c.w.Write(rec) }
func (c *csvSheet) Close() error           { c.w.Flush(); return c.w.Error() }

type xlsxSheet struct {
	f   *excelize.File
	sw  *excelize.StreamWriter
	out io.Writer
	row int
	buf []any
}

func (x *xlsxSheet) Row(rec []string) error {
	x.row++
	x.buf = x.buf[:0]
	for _, v := range rec {
		x.buf = append(x.buf, v) // strings stay text: codes keep their leading zeros
	}
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return x.sw.SetRow(cell, x.buf)
}

func (x *xlsxSheet) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	// A second sheet documents the columns.
	if _, err := x.f.NewSheet("Columns"); err != nil {
		return err
	}
	_ = x.f.SetSheetRow("Columns", "A1", &[]any{"column", "level", "meaning", "example"})
	for i, c := range Columns {
		level := "SKU"
		if c.Product {
			level = "product"
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		_ = x.f.SetSheetRow("Columns", cell, &[]any{c.Name, level, c.Help, c.Example})
	}
	cell, _ := excelize.CoordinatesToCellName(1, len(Columns)+2)
	_ = x.f.SetSheetRow("Columns", cell, &[]any{"stock:<warehouse>", "SKU", "On-hand stock in that warehouse; blank leaves it as it is. The import records the change as an adjustment.", "120"})
	_, err := x.f.WriteTo(x.out)
	return err
}

func newSheet(format string, w io.Writer) (sheetWriter, error) {
	switch format {
	case FormatCSV, "":
		_, _ = w.Write(bom) // Excel reads UTF-8 only with it
		return &csvSheet{w: csv.NewWriter(w)}, nil
	case FormatXLSX:
		f := excelize.NewFile()
		if err := f.SetSheetName("Sheet1", "Catalog"); err != nil {
			return nil, err
		}
		sw, err := f.NewStreamWriter("Catalog")
		if err != nil {
			return nil, err
		}
		return &xlsxSheet{f: f, sw: sw, out: w}, nil
	}
	return nil, errs.E(errs.Invalid, "invalid_format", "format is csv or xlsx")
}

// CheckFormat refuses a format other than csv or xlsx ("" is csv).
func CheckFormat(format string) error {
	if format != "" && format != FormatCSV && format != FormatXLSX {
		return errs.E(errs.Invalid, "invalid_format", "format is csv or xlsx")
	}
	return nil
}

func (s *Service) headerRow(tx *gorm.DB, tid int64) ([]string, []Warehouse, error) {
	var whs []Warehouse
	if err := tx.Raw(`SELECT id, code FROM warehouses WHERE tenant_id = ? ORDER BY id`, tid).Scan(&whs).Error; err != nil {
		return nil, nil, err
	}
	h := make([]string, 0, len(Columns)+len(whs))
	for _, c := range Columns {
		h = append(h, c.Name)
	}
	for _, w := range whs {
		h = append(h, stockPrefix+w.Code)
	}
	return h, whs, nil
}

// Template writes the empty catalog template (the header, with a stock
// column per warehouse of the shop) in format csv or xlsx.
func (s *Service) Template(ctx context.Context, format string, w io.Writer) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if err := CheckFormat(format); err != nil {
		return err
	}
	var h []string
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		h, _, err = s.headerRow(tx, tid)
		return err
	}); err != nil {
		return err
	}
	sh, err := newSheet(format, w)
	if err != nil {
		return err
	}
	if err := sh.Row(h); err != nil {
		return err
	}
	return sh.Close()
}

// Export writes the tenant's whole catalog in the template (one row per
// active SKU; product columns on each product's first row), read in one
// transaction. Importing it changes nothing.
func (s *Service) Export(ctx context.Context, format string, w io.Writer) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if err := CheckFormat(format); err != nil {
		return err
	}
	sh, err := newSheet(format, w)
	if err != nil {
		return err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		h, whs, err := s.headerRow(tx, tid)
		if err != nil {
			return err
		}
		if err := sh.Row(h); err != nil {
			return err
		}
		paths, err := categoryPaths(tx, tid)
		if err != nil {
			return err
		}
		var after int64
		for {
			var ps []struct {
				ID         int64
				Handle     *string
				Status     string
				CategoryID *int64
				Brand      string
				Tags       string
				Content    string
				Options    string
			}
			if err := tx.Raw(`SELECT id, handle, status, category_id, brand, array_to_json(tags)::text AS tags, content::text, options::text
				FROM products WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT 500`, tid, after).Scan(&ps).Error; err != nil {
				return err
			}
			if len(ps) == 0 {
				return nil
			}
			after = ps[len(ps)-1].ID
			ids := make([]int64, len(ps))
			for i, p := range ps {
				ids[i] = p.ID
			}
			skus, err := s.skus(tx, tid, ids, false)
			if err != nil {
				return err
			}
			byProduct := map[int64][]SKU{}
			skuIDs := make([]int64, 0, len(skus))
			for _, k := range skus {
				byProduct[k.ProductID] = append(byProduct[k.ProductID], k)
				skuIDs = append(skuIDs, k.ID)
			}
			stock := map[[2]int64]int64{}
			if len(skuIDs) > 0 {
				var lv []struct {
					SKUID       int64 `gorm:"column:sku_id"`
					WarehouseID int64
					OnHand      int64
				}
				if err := tx.Raw(`SELECT sku_id, warehouse_id, on_hand FROM stock_levels WHERE tenant_id = ? AND sku_id IN ?`, tid, skuIDs).Scan(&lv).Error; err != nil {
					return err
				}
				for _, l := range lv {
					stock[[2]int64{l.SKUID, l.WarehouseID}] = l.OnHand
				}
			}
			for _, p := range ps {
				var tags []string
				var content map[string]Content
				var opts []Option
				_ = json.Unmarshal([]byte(p.Tags), &tags)
				_ = json.Unmarshal([]byte(p.Content), &content)
				_ = json.Unmarshal([]byte(p.Options), &opts)
				handle := "P" + strconv.FormatInt(p.ID, 10)
				if p.Handle != nil {
					handle = *p.Handle
				}
				cat := ""
				if p.CategoryID != nil {
					cat = paths[*p.CategoryID]
				}
				for i, k := range byProduct[p.ID] {
					rec := make([]string, len(Columns), len(Columns)+len(whs))
					set := func(name, v string) { rec[columnIndex[name]] = v }
					set("handle", handle)
					if i == 0 {
						set("status", p.Status)
						set("category", cat)
						set("brand", p.Brand)
						set("tags", strings.Join(tags, ";"))
						for loc, suffix := range map[string]string{LocaleEN: "_en", LocaleZH: "_zh"} {
							set("title"+suffix, content[loc].Title)
							set("subtitle"+suffix, content[loc].Subtitle)
							set("description"+suffix, content[loc].Description)
						}
						for j, o := range opts {
							set(fmt.Sprintf("option%d_name_en", j+1), o.Name[LocaleEN])
							set(fmt.Sprintf("option%d_name_zh", j+1), o.Name[LocaleZH])
						}
					}
					for j, v := range k.OptionValues {
						if j >= len(opts) {
							break
						}
						val := Text{LocaleEN: v}
						for _, t := range opts[j].Values {
							if strings.EqualFold(optionKey(t), v) {
								val = t
							}
						}
						set(fmt.Sprintf("option%d_value_en", j+1), val[LocaleEN])
						set(fmt.Sprintf("option%d_value_zh", j+1), val[LocaleZH])
					}
					set("sku", k.Code)
					set("barcode", k.Barcode)
					set("price", FormatYuan(k.Price))
					if k.CompareAtPrice != nil {
						set("compare_at_price", FormatYuan(*k.CompareAtPrice))
					}
					set("weight_g", formatInt(k.WeightG))
					set("hs_code", k.HSCode)
					set("origin_country", k.OriginCountry)
					set("gname", k.GName)
					set("gmodel", k.GModel)
					set("unit", k.Unit)
					set("legal_unit1", k.LegalUnit1)
					set("legal_qty1", formatQty(k.LegalQty1))
					set("legal_unit2", k.LegalUnit2)
					set("legal_qty2", formatQty(k.LegalQty2))
					set("net_weight_g", formatInt(k.NetWeightG))
					set("gross_weight_g", formatInt(k.GrossWeightG))
					set("item_record_no", k.ItemRecordNo)
					set("trade_mode", k.TradeMode)
					set("tax_category", k.TaxCategory)
					set("positive_list", formatBool(k.PositiveList))
					for _, w := range whs {
						rec = append(rec, strconv.FormatInt(stock[[2]int64{k.ID, w.ID}], 10))
					}
					if err := sh.Row(rec); err != nil {
						return err
					}
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return sh.Close()
}
