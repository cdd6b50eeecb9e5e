package billing

import (
	"context"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// reconcileZH is the Chinese of what reconciliation writes for people:
// discrepancy explanations (stored in English, translated when read),
// the problems of a bill's summary and why a run failed.
var reconcileZH = errs.NewCatalog(
	[2]string{"the bill says {} yuan, we recorded {} yuan", "账单金额为 {1} 元，我方记录为 {2} 元"},
	[2]string{"the bill refunds {} yuan, we recorded {} yuan", "账单退款 {1} 元，我方记录为 {2} 元"},
	[2]string{"the bill shows the refund succeeded; we still have it as {} (its notification may be late or lost)", "账单显示退款已成功，我方仍记录为“{s1}”（退款通知可能延迟或丢失）"},
	[2]string{"the bill has a refund we have no record of", "账单中有一笔我方没有记录的退款"},
	[2]string{"the bill has a payment we have no record of", "账单中有一笔我方没有记录的支付"},
	[2]string{"the payment's notification never reached us; WeChat Pay confirmed it and the order was marked paid", "支付通知未送达我方；经微信支付确认后，订单已标记为已支付"},
	[2]string{"we recorded this payment; the bill of the day does not have it", "我方记录了这笔支付，但当天的账单中没有"},
	[2]string{"we recorded this refund as succeeded; the bill of the day does not have it", "我方记录这笔退款已成功，但当天的账单中没有"},
	[2]string{"{} (not found again by run {})", "{t1}（第 {2} 次对账未再发现）"},

	[2]string{"the summary's {} is {}, its rows add up to {}", "汇总行的{t1}为 {2}，明细行合计为 {3}"},
	[2]string{"row count", "行数"},
	[2]string{"settlement total (应结订单总金额)", "应结订单总金额"},
	[2]string{"refund total (退款总金额)", "退款总金额"},
	[2]string{"fee total (手续费总金额)", "手续费总金额"},
	[2]string{"order total (订单总金额)", "订单总金额"},
	[2]string{"requested refund total (申请退款总金额)", "申请退款总金额"},
	[2]string{"the bill's payments are {} yuan, ours {} yuan", "账单支付合计 {1} 元，我方 {2} 元"},
	[2]string{"the bill's refunds are {} yuan, ours {} yuan", "账单退款合计 {1} 元，我方 {2} 元"},

	[2]string{"trade bill line {}: {}", "交易账单第 {1} 行：{r2}"},
	[2]string{"empty bill: no header row", "账单为空：没有表头行"},
	[2]string{"the bill ends without its summary row", "账单缺少汇总行"},
	[2]string{"a row after the summary", "汇总行之后还有数据行"},
	[2]string{"the first line is not the trade bill header (交易时间,…)", "第一行不是交易账单的表头（交易时间,…）"},
	[2]string{"the header lacks the column {}", "表头缺少列 {1}"},
	[2]string{"line longer than {} bytes", "行长度超过 {1} 字节"},
)

// localized returns run with its texts in the language of the request of ctx.
func (r *Run) localized(ctx context.Context) *Run {
	if r == nil || !httpx.Chinese(ctx) {
		return r
	}
	c := *r
	c.Error = reconcileZH.Or(r.Error)
	c.SummaryProblems = make([]string, len(r.SummaryProblems))
	for i, p := range r.SummaryProblems {
		c.SummaryProblems[i] = reconcileZH.Or(p)
	}
	return &c
}

// localizedRuns is localized for a list.
func localizedRuns(ctx context.Context, runs []Run) []Run {
	if !httpx.Chinese(ctx) {
		return runs
	}
	out := make([]Run, len(runs))
	for i := range runs {
		out[i] = *runs[i].localized(ctx)
	}
	return out
}

// localizedDiscrepancies returns ds with their explanations in the language
// of the request of ctx (a copy; ds is not changed).
func localizedDiscrepancies(ctx context.Context, ds []Discrepancy) []Discrepancy {
	if !httpx.Chinese(ctx) {
		return ds
	}
	out := make([]Discrepancy, len(ds))
	for i, d := range ds {
		d.Explanation = reconcileZH.Or(d.Explanation)
		out[i] = d
	}
	return out
}
