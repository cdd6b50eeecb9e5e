package billing_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/minishop/minishop/billing"
)

func readAll(t testing.TB, in string) ([]*billing.BillRow, *billing.BillSummary, error) {
	br := billing.NewBillReader(strings.NewReader(in))
	var rows []*billing.BillRow
	for {
		r, err := br.Next()
		if err == io.EOF {
			return rows, br.Summary(), nil
		}
		if err != nil {
			return rows, nil, err
		}
		rows = append(rows, r)
	}
}

func TestReadTradeBill(t *testing.T) {
	raw, err := os.ReadFile("testdata/bill/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, sum, err := readAll(t, string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || sum == nil {
		t.Fatalf("%d rows, summary %v", len(rows), sum)
	}
	r := rows[1]
	if r.TransactionID != "4200000925202101284997714293" || r.OutTradeNo != "S20210128170702357724" || r.SettlementFen != 123456789 ||
		r.Fee != 740740734 || r.Goods != "面霜, 50ml" || r.Bank != "CMB_CREDIT" || r.Rate != "0.60%" || r.Line != 3 ||
		r.TradeTime.UTC().Format("2006-01-02 15:04:05") != "2021-01-28 10:00:00" {
		t.Errorf("row %+v", r)
	}
	if r.RefundID != "" || r.OutRefundNo != "" || r.IsRefund() {
		t.Errorf("a payment row reads as a refund: %+v", r)
	}
	rf := rows[2]
	if !rf.IsRefund() || rf.OutRefundNo != "S20210128170702357724R1" || rf.RefundFen != 10000 || rf.Fee != -60000 || rf.RefundStatus != "SUCCESS" {
		t.Errorf("refund %+v", rf)
	}
	if rows[0].SettlementFen != 1 || rows[0].Attach != "cipher code" {
		t.Errorf("first row %+v", rows[0])
	}
	var settle, fee int64
	for _, r := range rows {
		settle += r.SettlementFen
		fee += r.Fee
	}
	if sum.Count != 3 || sum.SettlementFen != settle || sum.Fee != fee || sum.RefundFen != 10000 {
		t.Errorf("summary %+v (rows: settlement %d, fee %d)", sum, settle, fee)
	}
	// The same bill with LF line ends and no BOM reads the same.
	lf := strings.TrimPrefix(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\uFEFF")
	rows2, sum2, err := readAll(t, lf)
	if err != nil || len(rows2) != 3 || *sum2 != *sum {
		t.Errorf("LF bill: %d rows, %v, %v", len(rows2), sum2, err)
	}
}

func TestReadTradeBillErrors(t *testing.T) {
	raw, _ := os.ReadFile("testdata/bill/sample.csv")
	good := string(raw)
	lines := strings.Split(good, "\r\n")
	for _, c := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"empty", "", 0, "no header"},
		{"not a bill", "hello,world\r\n", 1, "not the trade bill header"},
		{"no summary", strings.Join(lines[:3], "\r\n") + "\r\n", 3, "without its summary"},
		{"float amount", strings.Replace(good, "`0.01,", "`1e-2,", 1), 2, "应结订单金额"},
		{"three decimals", strings.Replace(good, "`1234567.89,`0.00,`0,", "`1234567.891,`0.00,`0,", 1), 3, "应结订单金额"},
		{"missing backtick", strings.Replace(good, "`2021-01-28 17:07:11", "2021-01-28 17:07:11", 1), 2, "backtick"},
		{"short row", lines[0] + "\r\n`2021-01-28 17:07:11,`wx\r\n", 2, "fields"},
		{"bad time", strings.Replace(good, "`2021-01-28 17:07:11", "`28/01/2021", 1), 2, "交易时间"},
		{"row after summary", good + lines[1] + "\r\n", 7, "after the summary"},
		{"bad count", strings.Replace(good, "`3,`2469135.79", "`three,`2469135.79", 1), 6, "总交易单数"},
	} {
		_, _, err := readAll(t, c.in)
		var be *billing.BillError
		if !errors.As(err, &be) || be.Line != c.line || !strings.Contains(be.Msg, c.msg) {
			t.Errorf("%s: %v, want line %d %q", c.name, err, c.line, c.msg)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		in    string
		scale int
		want  int64
		ok    bool
	}{
		{"0.01", 2, 1, true}, {"12", 2, 1200, true}, {"12.3", 2, 1230, true}, {"-0.60000", 5, -60000, true},
		{"1234567.89", 2, 123456789, true}, {"0.005", 2, 0, false}, {"1.", 2, 0, false}, {".5", 2, 0, false},
		{"1e2", 2, 0, false}, {"", 2, 0, false}, {"--1", 2, 0, false}, {"1,000.00", 2, 0, false}, {"9999999999999999", 2, 0, false},
	} {
		got, err := billing.ParseDecimal(c.in, c.scale)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDecimal(%q, %d) = %d, %v", c.in, c.scale, got, err)
		}
		if c.ok {
			if back, _ := billing.ParseDecimal(billing.FormatDecimal(got, c.scale), c.scale); back != got {
				t.Errorf("FormatDecimal(%d) = %q does not read back", got, billing.FormatDecimal(got, c.scale))
			}
		}
	}
	for fee, fen := range map[int64]int64{74664: 75, 74499: 74, 74500: 75, -74500: -75, 0: 0} {
		if got := billing.FeeFen(fee); got != fen {
			t.Errorf("FeeFen(%d) = %d, want %d", fee, got, fen)
		}
	}
}

// FuzzParseTradeBill: any input reads without panicking, and every error is
// a *BillError naming a line within the input.
func FuzzParseTradeBill(f *testing.F) {
	raw, _ := os.ReadFile("testdata/bill/sample.csv")
	f.Add(string(raw))
	f.Add(strings.ReplaceAll(string(raw), "\r\n", "\n"))
	f.Add("交易时间,微信订单号,商户订单号,交易状态,应结订单金额,手续费\n`a,`b\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, _, err := readAll(t, in)
		n := strings.Count(in, "\n") + 1
		if err != nil {
			var be *billing.BillError
			if !errors.As(err, &be) {
				t.Fatalf("error of another type: %v", err)
			}
			if be.Line < 0 || be.Line > n || be.Msg == "" {
				t.Fatalf("error line %d of %d lines: %v", be.Line, n, err)
			}
		}
		for _, r := range rows {
			if r.Line < 2 || r.Line > n || r.TransactionID == "" {
				t.Fatalf("row %+v", r)
			}
		}
	})
}
