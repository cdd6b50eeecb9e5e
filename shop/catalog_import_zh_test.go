package shop_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// The row errors of an import read in Chinese for a console in Chinese, and
// in English for everyone else (they are stored once, in English).
func TestImportRowErrorsInChinese(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	b.setup(t)
	lines := strings.Split(strings.TrimSpace(string(readTestdata(t, "good.csv"))), "\n")
	h := strings.Split(lines[0], ",")
	set := func(line int, col, v string) {
		rec, err := csv.NewReader(strings.NewReader(lines[line-1])).Read()
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range h {
			if name == col {
				rec[i] = v
			}
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(rec)
		w.Flush()
		lines[line-1] = strings.TrimSpace(buf.String())
	}
	set(2, "price", "12.345")
	set(3, "hs_code", "33049900X")
	set(4, "tax_category", "fireworks")
	set(5, "compare_at_price", "100")
	set(6, "stock:BONDED-HZ", "-3")
	_, job := b.importFile(t, "bad.csv", []byte(strings.Join(lines, "\n")+"\n"))
	if job.Status != "failed" || len(job.Errors) < 5 {
		t.Fatalf("import: %+v", job)
	}
	get := func(lang string) shop.Import {
		var j shop.Import
		r := e.Do(t, "GET", "", fmt.Sprintf("%s/catalog/imports/%d", b.base, job.ID), nil, append(b.auth, "Accept-Language", lang)...)
		if r.Status != 200 {
			t.Fatalf("job: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &j)
		return j
	}
	english := regexp.MustCompile(`(?i)\b(the|is|are|not|has|of|to|and|or|be|must|than)\b [a-z]{2,}`)
	zh, en := get("zh-CN,zh;q=0.9"), get("en-GB")
	for i, er := range zh.Errors {
		if english.MatchString(er.Message) {
			t.Errorf("line %d %s in Chinese: %q", er.Line, er.Column, er.Message)
		}
		if en.Errors[i].Message != job.Errors[i].Message || !english.MatchString(en.Errors[i].Message) {
			t.Errorf("line %d in English: %q", er.Line, en.Errors[i].Message)
		}
	}
}
