package shop

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestParseYuan(t *testing.T) {
	for _, c := range []struct {
		in   string
		fen  int64
		fail bool
	}{
		{"299", 29900, false}, {"299.9", 29990, false}, {"299.90", 29990, false}, {"0.01", 1, false}, {"¥1,299.00", 129900, false},
		{"0.1", 10, false}, {"19.99", 1999, false}, {"999999999999.99", 99999999999999, false},
		{"12.345", 0, true}, {"-1", 0, true}, {"1e3", 0, true}, {"", 0, true}, {"12.", 0, true}, {".5", 0, true}, {"abc", 0, true},
	} {
		got, err := ParseYuan(c.in)
		if (err != nil) != c.fail || got != c.fen {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d (fail %v)", c.in, got, err, c.fen, c.fail)
		}
		if !c.fail && FormatYuan(got) != FormatYuan(c.fen) {
			t.Errorf("FormatYuan(%d)", got)
		}
	}
	// Every fen amount survives formatting and parsing.
	for _, fen := range []int64{0, 1, 10, 99, 100, 12345, 100_000_000_00} {
		if got, err := ParseYuan(FormatYuan(fen)); err != nil || got != fen {
			t.Errorf("round trip of %d fen: %d %v", fen, got, err)
		}
	}
}

// parseAll runs the database-free part of an import over a file: the
// header, each row's cells and SKU columns. Every problem must be a
// RowError with a reason; nothing may panic.
func parseAll(t *testing.T, format string, data []byte) {
	n, ferrs, err := scanFile(format, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("scanFile returned an error that is not a row error: %v", err)
	}
	for _, e := range ferrs {
		if e.Message == "" || e.Line < 0 {
			t.Fatalf("unclear error %+v", e)
		}
	}
	if len(ferrs) > 0 {
		return
	}
	rr, err := openRows(format, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("a file scanFile accepted does not open: %v", err)
	}
	defer rr.Close()
	line, rec, err := rr.Next()
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	h, herrs := parseHeader(line, rec)
	if len(herrs) > 0 {
		t.Fatalf("scanFile accepted a header parseHeader refuses: %+v", herrs)
	}
	im := &importer{h: h, whByCol: map[int]int64{}}
	rows := 0
	for {
		line, rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		var fe *fileErr
		if errors.As(err, &fe) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		c, cerrs, empty := h.split(line, rec)
		if !empty {
			rows++
		}
		for _, e := range cerrs {
			im.fail(e)
		}
		im.parseSKU(c, 3)
	}
	if rows != n {
		t.Fatalf("scanFile counted %d rows, the import reads %d", n, rows)
	}
	for _, e := range im.errs {
		if e.Message == "" || e.Line <= 0 {
			t.Fatalf("unclear error %+v", e)
		}
	}
}

func FuzzImportCSV(f *testing.F) {
	good, err := os.ReadFile("testdata/import/good.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(append([]byte{0xEF, 0xBB, 0xBF}, bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))...))
	f.Add([]byte("handle,sku,price\n"))
	f.Add([]byte("handle,sku,price,description_en\na,b,1.00,\"two\nlines\"\n"))
	f.Add([]byte("handle,sku,price\na,b,\"1.0\"0\n"))
	f.Add([]byte("handle,sku,price,stock:\na,b,1\n"))
	f.Add([]byte("handle,sku,price\na,b,\xff\xfe\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseAll(t, FormatCSV, data)
	})
}

func FuzzImportXLSX(f *testing.F) {
	var buf bytes.Buffer
	sh, err := newSheet(FormatXLSX, &buf)
	if err != nil {
		f.Fatal(err)
	}
	sh.Row([]string{"handle", "sku", "price", "option1_name_en", "option1_value_en", "stock:WH"})
	sh.Row([]string{"a", "A-1", "10.50", "Size", "S", "3"})
	sh.Row([]string{"a", "A-2", "x", "", "M", "-1"})
	if err := sh.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		parseAll(t, FormatXLSX, data)
	})
}
