package shop

// Importing tracking numbers from a spreadsheet (CSV, UTF-8, a header row):
// columns order_no (the order's out_trade_no), carrier (Kuaidi100 company
// code), tracking_no, and optionally lines ("1:2;3:1": line 1 × 2 and line
// 3 × 1; empty: everything of the order not shipped yet). Several rows of
// one order are a split delivery. Every row is checked, as if the rows
// before it were recorded, and the file is imported all or nothing: one bad
// row imports nothing, and every bad row is reported with its line number.
// A row whose parcel is already recorded for that order changes nothing,
// so the same file can be imported twice.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// MaxShipmentImportRows bounds a tracking-number import.
const MaxShipmentImportRows = 5000

// ImportRowError is a problem of one row of an import.
type ImportRowError struct {
	Line    int    `json:"line"` // line of the file, the header being line 1
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ShipmentImport is the result of an import.
type ShipmentImport struct {
	Imported  int        `json:"imported"`  // parcels recorded
	Unchanged int        `json:"unchanged"` // rows already recorded before
	Shipments []Shipment `json:"shipments"`
}

type importRow struct {
	line                         int
	orderNo, carrier, trackingNo string
	linesText                    string
}

// ImportShipments records the parcels of a CSV file, all or nothing.
// Refusals: import_invalid (422, details.errors: every bad row), or
// invalid_file (400) for a file that is not such a CSV.
func (s *Service) ImportShipments(ctx context.Context, data []byte) (*ShipmentImport, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := parseShipmentCSV(data)
	if err != nil {
		return nil, err
	}
	out := &ShipmentImport{Shipments: []Shipment{}}
	var problems []ImportRowError
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		for i, r := range rows {
			lines, err := parseLinesCell(r.linesText)
			if err != nil {
				problems = append(problems, rowError(r, err))
				continue
			}
			in := ShipmentInput{Carrier: r.carrier, TrackingNo: r.trackingNo, Lines: lines}
			if err := checkShipmentInput(&in); err != nil {
				problems = append(problems, rowError(r, err))
				continue
			}
			var ids []int64
			if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND out_trade_no = ?`, tid, r.orderNo).Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				problems = append(problems, ImportRowError{Line: r.line, Column: "order_no", Code: "order_not_found", Message: "no order " + r.orderNo})
				continue
			}
			sp := "row" + strconv.Itoa(i)
			if err := tx.SavePoint(sp).Error; err != nil {
				return err
			}
			sh, created, err := s.createShipment(ctx, tx, tid, ids[0], in, ShipFromImport)
			if err != nil {
				if errs.As(err) == nil || errs.As(err).Kind == errs.Internal {
					return err
				}
				if err := tx.RollbackTo(sp).Error; err != nil {
					return err
				}
				problems = append(problems, rowError(r, err))
				continue
			}
			if created {
				out.Imported++
			} else {
				out.Unchanged++
			}
			if len(out.Shipments) < 100 {
				out.Shipments = append(out.Shipments, *sh)
			}
		}
		if len(problems) > 0 {
			return errImportRows
		}
		return nil
	})
	if errors.Is(err, errImportRows) {
		shown := problems
		if len(shown) > 200 {
			shown = shown[:200]
		}
		return nil, errs.E(errs.Unprocessable, "import_invalid",
			fmt.Sprintf("%d of %d rows have problems; nothing was imported", len(problems), len(rows))).
			WithDetails(map[string]any{"errors": shown, "total": len(problems)})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errImportRows = errors.New("rows have problems")

// rowError turns a refusal of a row into its report.
func rowError(r importRow, err error) ImportRowError {
	e := errs.As(err)
	col := ""
	switch e.Code {
	case "invalid_carrier":
		col = "carrier"
	case "invalid_tracking_no", "tracking_in_use":
		col = "tracking_no"
	case "unknown_line", "over_shipped", "nothing_to_ship", "invalid_lines":
		col = "lines"
	case "customs_not_released", "order_not_shippable", "too_many_shipments", "order_not_found":
		col = "order_no"
	}
	return ImportRowError{Line: r.line, Column: col, Code: e.Code, Message: e.Message}
}

func invalidFile(msg string) error { return errs.E(errs.Invalid, "invalid_file", msg) }

// parseShipmentCSV reads the rows; a malformed lines cell is reported with
// the row later, so every problem shows in one go.
func parseShipmentCSV(data []byte) ([]importRow, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	head, err := rd.Read()
	if err != nil {
		return nil, invalidFile("the file is empty or not CSV; the first row names the columns order_no, carrier, tracking_no (and optionally lines)")
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"order_no", "carrier", "tracking_no"} {
		if _, ok := col[need]; !ok {
			return nil, invalidFile("the header row has no " + need + " column; the columns are order_no, carrier, tracking_no and optionally lines")
		}
	}
	cell := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var rows []importRow
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		line, _ := rd.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, invalidFile(fmt.Sprintf("line %d is not valid CSV: %v", pe.Line, pe.Err))
			}
			return nil, invalidFile("the file is not valid CSV")
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		if len(rows) == MaxShipmentImportRows {
			return nil, errs.E(errs.TooLarge, "too_many_rows", fmt.Sprintf("a file holds at most %d rows; split it", MaxShipmentImportRows))
		}
		rows = append(rows, importRow{line: line, orderNo: cell(rec, "order_no"), carrier: cell(rec, "carrier"),
			trackingNo: cell(rec, "tracking_no"), linesText: cell(rec, "lines")})
	}
	if len(rows) == 0 {
		return nil, invalidFile("the file has no rows under its header")
	}
	return rows, nil
}

// parseLinesCell reads "1:2;3:1".
func parseLinesCell(s string) ([]ShipmentLine, error) {
	if s == "" {
		return nil, nil
	}
	var out []ShipmentLine
	for _, part := range strings.Split(s, ";") {
		no, q, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err1 := strconv.Atoi(strings.TrimSpace(no))
		m, err2 := strconv.Atoi(strings.TrimSpace(q))
		if !ok || err1 != nil || err2 != nil || n < 1 || m < 1 || m > 999 {
			return nil, errs.E(errs.Invalid, "invalid_lines", `lines must read like "1:2;3:1" (line 1 × 2, line 3 × 1)`)
		}
		out = append(out, ShipmentLine{LineNo: n, Quantity: m})
	}
	return out, nil
}
