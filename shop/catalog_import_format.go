package shop

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The catalog spreadsheet: one row per SKU. Rows with the same handle are one
// product; the product's columns may be written on one of its rows and left
// blank on the others (a value given twice must be the same). Option columns
// name up to three options and each row's value of them. Stock columns are
// "stock:<warehouse code>", one per warehouse.
//
// Formats: CSV (UTF-8, a byte-order mark and CRLF line ends are fine) and
// XLSX (the first sheet, or the one named "Catalog").

// Import formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Limits of an import file.
const (
	MaxImportBytes = 64 << 20 // the largest upload
	MaxImportRows  = 200_000  // data rows (SKUs) in one file
	maxCellBytes   = 100_000  // a description may be long; nothing else is
)

// ContentTypeXLSX is the media type of XLSX files.
const ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Column is one column of the catalog template.
type Column struct {
	Name    string // header text, lower case
	Product bool   // a product-level column (the same on every row of the product)
	Help    string
	Example string
}

// stockPrefix starts the header of a stock column: "stock:BONDED-HZ".
const stockPrefix = "stock:"

// Columns of the template, in order. Stock columns follow, one per warehouse.
var Columns = []Column{
	{"handle", true, "Groups rows into one product and finds it again on the next import: 1-64 letters, digits or . _ / -. Products made in the console are exported as P<id>.", "cloudberry-serum"},
	{"status", true, "draft, published or archived; blank keeps the current status (draft for a new product). Publishing needs a complete checklist.", "draft"},
	{"category", true, "Category path by name, e.g. Skincare > Serums (the category must exist); blank for none.", "Skincare > Serums"},
	{"brand", true, "Brand shown with the product, at most 120 characters.", "Nordic Skin"},
	{"tags", true, "Tags separated by ; (each 1-40 characters, at most 20).", "serum;bestseller"},
	{"title_en", true, "English title, at most 120 characters. A title in en or zh-CN is required.", "Cloudberry Serum"},
	{"subtitle_en", true, "English subtitle, at most 200 characters.", "Arctic glow"},
	{"description_en", true, "English description (HTML is sanitised).", "<p>Arctic cloudberry.</p>"},
	{"title_zh", true, "Chinese (zh-CN) title: what the Mini Program shows, required to publish.", "云莓精华"},
	{"subtitle_zh", true, "Chinese subtitle.", "北极光采"},
	{"description_zh", true, "Chinese description (HTML is sanitised).", "<p>北极云莓。</p>"},
	{"option1_name_en", true, "First option's name in English, e.g. Colour (blank: the product has no options).", "Colour"},
	{"option1_name_zh", true, "First option's name in Chinese.", "颜色"},
	{"option1_value_en", false, "This SKU's value of the first option in English (the value's key).", "Red"},
	{"option1_value_zh", false, "The same value in Chinese.", "红"},
	{"option2_name_en", true, "Second option's name in English.", "Size"},
	{"option2_name_zh", true, "Second option's name in Chinese.", "规格"},
	{"option2_value_en", false, "This SKU's value of the second option in English.", "30ml"},
	{"option2_value_zh", false, "The same value in Chinese.", ""},
	{"option3_name_en", true, "Third option's name in English.", ""},
	{"option3_name_zh", true, "Third option's name in Chinese.", ""},
	{"option3_value_en", false, "This SKU's value of the third option in English.", ""},
	{"option3_value_zh", false, "The same value in Chinese.", ""},
	{"sku", false, "SKU code, unique in the shop: 1-64 letters, digits or . _ / -. Required.", "NS-RED-30"},
	{"barcode", false, "Barcode (EAN/UPC), at most 64 characters.", "6901234567892"},
	{"price", false, "Price in CNY yuan, at most 2 decimals, e.g. 299.00. Required.", "299.00"},
	{"compare_at_price", false, "Former price in yuan, higher than the price; blank for none.", "349.00"},
	{"weight_g", false, "Shipping weight in grams.", "150"},
	{"hs_code", false, "HS code, 10 digits.", "3304990099"},
	{"origin_country", false, "Country of origin, 3-digit customs code (e.g. 330 Sweden).", "330"},
	{"gname", false, "Declared name for customs (Chinese), at most 250 characters.", "精华液"},
	{"gmodel", false, "Declared specification: brand, model, ingredients, size; at most 250 characters.", "Nordic Skin|30ml|玻璃瓶"},
	{"unit", false, "Declared unit, 3-digit customs unit code (007 piece).", "007"},
	{"legal_unit1", false, "First legal unit, 3-digit code (035 kilogram).", "035"},
	{"legal_qty1", false, "First legal quantity, greater than 0, at most 5 decimals.", "0.05"},
	{"legal_unit2", false, "Second legal unit, 3-digit code; blank if none.", ""},
	{"legal_qty2", false, "Second legal quantity.", ""},
	{"net_weight_g", false, "Net weight in grams.", "50"},
	{"gross_weight_g", false, "Gross weight in grams, not less than the net weight.", "120"},
	{"item_record_no", false, "Product record number (itemRecordNo), required to publish bonded (1210) SKUs.", "ITEM0001"},
	{"trade_mode", false, "1210 (bonded stock) or 9610 (direct mail); blank is 1210.", "1210"},
	{"tax_category", false, "Consumption-tax category: general, premium_cosmetics, jewelry, high_end_watches (as configured); blank is general.", "premium_cosmetics"},
	{"positive_list", false, "yes if the goods are confirmed on the CBEC positive list, else no.", "yes"},
}

var columnIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range Columns {
		m[c.Name] = i
	}
	return m
}()

// Column numbers used by the parser.
var (
	colHandle = columnIndex["handle"]
	colSKU    = columnIndex["sku"]
)

// RowError is one problem of an import file: its line (the header is line
// 1; in XLSX, the row number), column and what is wrong.
type RowError struct {
	Line    int    `json:"line"`
	Column  string `json:"column"`
	SKU     string `json:"sku"`
	Message string `json:"message"`
}

func (e RowError) String() string {
	s := fmt.Sprintf("line %d", e.Line)
	if e.Column != "" {
		s += ", column " + e.Column
	}
	if e.SKU != "" {
		s += " (SKU " + e.SKU + ")"
	}
	return s + ": " + e.Message
}

// rowReader yields the records of a sheet with their line numbers; io.EOF at
// the end.
type rowReader interface {
	Next() (line int, rec []string, err error)
	Close() error
}

// DetectFormat tells CSV from XLSX by the first bytes (XLSX is a zip file),
// falling back to the file name.
func DetectFormat(name string, head []byte) string {
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return FormatXLSX
	}
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") {
		return FormatXLSX
	}
	return FormatCSV
}

func openRows(format string, r io.ReaderAt, size int64) (rowReader, error) {
	if format == FormatXLSX {
		return openXLSX(io.NewSectionReader(r, 0, size))
	}
	return newCSVRows(io.NewSectionReader(r, 0, size)), nil
}

type csvRows struct {
	r *csv.Reader
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func newCSVRows(r io.Reader) *csvRows {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &csvRows{r: cr}
}

func (c *csvRows) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.StartLine, nil, fileError(pe.StartLine, fmt.Sprintf("this is not valid CSV (%v); quote cells that contain commas, quotes or line breaks", pe.Err))
		}
		return 0, nil, err
	}
	line, _ := c.r.FieldPos(0)
	return line, rec, nil
}

func (c *csvRows) Close() error { return nil }

type xlsxRows struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

func openXLSX(r io.Reader) (*xlsxRows, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fileError(0, "this is not an XLSX file Excel or WPS can open; save the sheet as .xlsx or as CSV UTF-8")
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fileError(0, "the workbook has no sheet")
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if strings.EqualFold(s, "Catalog") {
			sheet = s
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fileError(0, "the sheet "+sheet+" cannot be read")
	}
	return &xlsxRows{f: f, rows: rows}, nil
}

func (x *xlsxRows) Next() (int, []string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return x.line + 1, nil, fileError(x.line+1, "the sheet is damaged here and cannot be read further")
		}
		return 0, nil, io.EOF
	}
	x.line++
	rec, err := x.rows.Columns()
	if err != nil {
		return x.line, nil, fileError(x.line, "this row cannot be read")
	}
	return x.line, rec, nil
}

func (x *xlsxRows) Close() error {
	_ = x.rows.Close()
	return x.f.Close()
}

// fileErr is a problem that stops reading the file.
type fileErr struct{ RowError }

func (e *fileErr) Error() string { return e.RowError.String() }

func fileError(line int, msg string) error { return &fileErr{RowError{Line: line, Message: msg}} }

// header maps a file's columns to the template's.
type header struct {
	cols   []int    // file column → template column, -1 for a stock column, -2 ignored
	stock  []string // file column → warehouse code for stock columns
	has    []bool   // template column present
	names  []string // file column → header text as written
	nstock int
}

// parseHeader reads the header record. Unknown columns are refused (a typo
// would otherwise silently import nothing); warehouses are checked later.
func parseHeader(line int, rec []string) (*header, []RowError) {
	h := &header{cols: make([]int, len(rec)), stock: make([]string, len(rec)), has: make([]bool, len(Columns)), names: make([]string, len(rec))}
	var errs []RowError
	for i, raw := range rec {
		name := strings.ToLower(strings.TrimSpace(raw))
		h.names[i] = strings.TrimSpace(raw)
		switch {
		case name == "":
			h.cols[i] = -2
		case strings.HasPrefix(name, stockPrefix):
			code := strings.TrimSpace(strings.TrimSpace(raw)[len(stockPrefix):])
			if code == "" {
				errs = append(errs, RowError{Line: line, Column: raw, Message: "a stock column is stock:<warehouse code>, e.g. stock:BONDED-HZ"})
				continue
			}
			for j := 0; j < i; j++ {
				if h.cols[j] == -1 && strings.EqualFold(h.stock[j], code) {
					errs = append(errs, RowError{Line: line, Column: raw, Message: "this column appears twice"})
				}
			}
			h.cols[i], h.stock[i] = -1, code
			h.nstock++
		default:
			c, ok := columnIndex[name]
			if !ok {
				errs = append(errs, RowError{Line: line, Column: raw, Message: "unknown column; the template's columns are " + templateNames()})
				continue
			}
			if h.has[c] {
				errs = append(errs, RowError{Line: line, Column: raw, Message: "this column appears twice"})
			}
			h.cols[i] = c
			h.has[c] = true
		}
	}
	for _, req := range []int{colHandle, colSKU, columnIndex["price"]} {
		if !h.has[req] {
			errs = append(errs, RowError{Line: line, Column: Columns[req].Name, Message: "the column " + Columns[req].Name + " is required"})
		}
	}
	return h, errs
}

func templateNames() string {
	names := make([]string, 0, len(Columns)+1)
	for _, c := range Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ") + " and stock:<warehouse code>"
}

// cells are one data row: template column → trimmed text, and stock
// column (by warehouse code) → text.
type cells struct {
	line  int
	v     []string
	stock []string // parallel to header.stock positions with a code
}

// split spreads a record over the template columns. It reports cells that
// are not UTF-8 or too long.
func (h *header) split(line int, rec []string) (cells, []RowError, bool) {
	c := cells{line: line, v: make([]string, len(Columns)), stock: make([]string, len(h.cols))}
	var errs []RowError
	empty := true
	for i, raw := range rec {
		if i >= len(h.cols) {
			if strings.TrimSpace(raw) != "" {
				errs = append(errs, RowError{Line: line, Column: "column " + strconv.Itoa(i+1), Message: "this cell has no header; add the column's name in line 1 or delete the cell"})
			}
			continue
		}
		if h.cols[i] == -2 {
			continue
		}
		v := strings.TrimSpace(raw)
		if v == "" {
			continue
		}
		empty = false
		if !utf8.ValidString(v) {
			errs = append(errs, RowError{Line: line, Column: h.names[i], Message: "the text is not UTF-8: in Excel save as \"CSV UTF-8\", or use the .xlsx template"})
			continue
		}
		if len(v) > maxCellBytes {
			errs = append(errs, RowError{Line: line, Column: h.names[i], Message: fmt.Sprintf("the cell is longer than %d bytes", maxCellBytes)})
			continue
		}
		if h.cols[i] == -1 {
			c.stock[i] = v
		} else {
			c.v[h.cols[i]] = v
		}
	}
	return c, errs, empty
}

func (c cells) get(name string) string { return c.v[columnIndex[name]] }

var yuanPattern = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,2})?$`)

// ParseYuan converts a price in yuan with at most two decimals ("299",
// "299.9", "¥1,299.00") to fen, exactly: no floating point.
func ParseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "¥￥")
	s = strings.ReplaceAll(s, ",", "")
	if !yuanPattern.MatchString(s) {
		return 0, fmt.Errorf("%q is not a price in yuan with at most 2 decimals, e.g. 299.00", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

// FormatYuan writes fen as yuan with two decimals.
func FormatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

var (
	gramsPattern = regexp.MustCompile(`^[0-9]{1,9}$`)
	qtyPattern   = regexp.MustCompile(`^[0-9]{1,14}(\.[0-9]{1,5})?$`)
	allDigits    = regexp.MustCompile(`^[0-9]+$`)
)

// padCode restores the leading zeros Excel drops from numeric codes (007 →
// 7) when the cell is all digits and shorter than the code.
func padCode(s string, n int) string {
	if s != "" && len(s) < n && allDigits.MatchString(s) {
		return strings.Repeat("0", n-len(s)) + s
	}
	return s
}

func parseGrams(s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	if !gramsPattern.MatchString(s) {
		return nil, fmt.Errorf("%q is not a weight in whole grams, e.g. 150", s)
	}
	n, _ := strconv.Atoi(s)
	return &n, nil
}

func parseQty(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	if !qtyPattern.MatchString(s) {
		return nil, fmt.Errorf("%q is not a quantity with at most 5 decimals, e.g. 0.05", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a quantity", s)
	}
	return &f, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "no", "n", "false", "0", "否":
		return false, nil
	case "yes", "y", "true", "1", "是":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

func parseStock(s string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1_000_000_000 {
		return nil, fmt.Errorf("%q is not a stock count (a whole number from 0)", s)
	}
	return &n, nil
}

func formatQty(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func formatInt(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

func formatBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// splitTags splits "a;b; c" into trimmed non-empty tags.
func splitTags(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ";") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
