package shop_test

import (
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
	file := string(readTestdata(t, "good.csv"))
	for _, r := range [][2]string{
		{"NS-RED-30,6901234567892,299.90", "NS-RED-30,6901234567892,12.345"},        // three decimals
		{"premium_cosmetics,yes,25", "premium_cosmetics,yes,-3"},                    // negative stock
		{"NS-BLUE-30,,299.90,,150,3304990099", "NS-BLUE-30,,299.90,,150,33049900X"}, // not digits
		{"NS-BLUE-50,,399.00,,200", "NS-BLUE-50,,399.00,100,200"},                   // compare-at below the price
		{"9610,general,no,12", "9610,fireworks,no,12"},                              // tax category not configured
	} {
		if !strings.Contains(file, r[0]) {
			t.Fatalf("good.csv changed: no %q", r[0])
		}
		file = strings.Replace(file, r[0], r[1], 1)
	}
	_, job := b.importFile(t, "bad.csv", []byte(file))
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
