package billing_test

import (
	"regexp"
	"testing"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/internal/testenv"
)

// threeWords finds an English sentence: an English word that only a
// sentence has (the, is, not…) next to another word.
var threeWords = regexp.MustCompile(`(?i)\b(the|we|our|ours|is|are|was|not|has|have|of|to|and|or|no|be)\b [a-z]{2,}`)

// A finance user whose console is in Chinese reads every explanation and
// summary problem in Chinese; in English they stay as stored.
func TestReconciliationInChinese(t *testing.T) {
	e := testenv.New(t)
	s := newReconShop(t, e, "recon-zh")
	day := today().Format("2006-01-02")
	s.pay(t, "RCZ000001", 5_000)
	s.pay(t, "RCZ000002", 7_000)
	s.pay(t, "RCZ000003", 3_000)
	s.payAtSandbox(t, s.order(t, "RCZ000004", 4_200)) // notification lost
	s.control(t, "/sandbox/v1/pay/bill-faults", map[string]any{"mch_id": s.mchID, "date": day, "faults": []map[string]any{
		{"kind": "amount", "out_trade_no": "RCZ000001", "amount": 5_100},
		{"kind": "refund", "out_trade_no": "RCZ000002", "out_refund_no": "RCZ000002R9", "amount": 700, "total": 7_000},
		{"kind": "drop", "out_trade_no": "RCZ000003"},
		{"kind": "payment", "out_trade_no": "STRANGER02", "amount": 888},
	}}, nil)
	base := "/api/admin/v1/tenants/" + s.t.Slug + "/reconciliations"
	owner := e.Member(t, s.t.ID, "owner@recon-zh.test", "owner")
	if r := e.Do(t, "POST", "", base, map[string]string{"date": day}, owner...); r.Status != 200 {
		t.Fatalf("reconcile: %d %s", r.Status, r.Body)
	}
	type day_ struct {
		Reconciliation billing.Run
		Discrepancies  []billing.Discrepancy
	}
	get := func(lang string) day_ {
		r := e.Do(t, "GET", "", base+"/"+day, nil, append(owner, "Accept-Language", lang)...)
		if r.Status != 200 {
			t.Fatalf("day: %d %s", r.Status, r.Body)
		}
		var d day_
		r.JSON(t, &d)
		return d
	}
	zh, en := get("zh-CN,zh;q=0.9,en;q=0.8"), get("en-US,en;q=0.9")
	if len(zh.Discrepancies) != 5 || len(en.Discrepancies) != 5 || len(zh.Reconciliation.SummaryProblems) == 0 {
		t.Fatalf("discrepancies zh %d en %d, problems %v", len(zh.Discrepancies), len(en.Discrepancies), zh.Reconciliation.SummaryProblems)
	}
	texts := zh.Reconciliation.SummaryProblems
	for i, d := range zh.Discrepancies {
		texts = append(texts, d.Explanation)
		if !threeWords.MatchString(en.Discrepancies[i].Explanation) {
			t.Errorf("English request, explanation %q", en.Discrepancies[i].Explanation)
		}
	}
	for _, x := range texts {
		if x == "" || threeWords.MatchString(x) {
			t.Errorf("Chinese request, English text %q", x)
		}
	}
	for _, p := range en.Reconciliation.SummaryProblems {
		if !threeWords.MatchString(p) {
			t.Errorf("English request, problem %q", p)
		}
	}
}
