package shop

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/httpx"
)

// Every reason and action the customs queue can show has its Chinese: a
// Chinese console shows no English sentence (customs' own Chinese receipt
// texts are kept as they are).
func TestCustomsAttentionInChinese(t *testing.T) {
	now := time.Now()
	st := func(n int) *int { return &n }
	english := regexp.MustCompile(`(?i)\b(the|we|our|is|are|was|not|has|have|of|to|and|or|no|be)\b [a-z]{2,}`) // an English sentence
	zh := httpx.WithChinese(context.Background())
	rows := []declRow{
		{Kind: DocInventory, State: DeclRejected, LastStatus: st(100), LastInfo: "清单: 订购人与支付人不一致"},
		{Kind: DocPayment, State: DeclRejected, LastStatus: st(100), LastInfo: "identity check failed (WeChat Pay cert_check_result DIFFERENT)"},
		{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "海关退单: 订购人身份信息校验不通过"},
		{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "超过年度限额"},
		{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "商品备案信息不存在"},
		{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "申报金额不符"},
		{Kind: DocWaybill, State: DeclRejected, LastStatus: st(100), LastInfo: "其他原因"},
		{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "其他原因"},
		{Kind: DocOrder, State: DeclFailed, LastError: "the customs declaration agent refused the declaration: 报文结构错误"},
		{Kind: DocPayment, State: DeclFailed, LastError: "WeChat Pay declares the payer's identity, so customs will refuse the 三单 comparison: ask the buyer to pay with their own WeChat account, or cancel and refund the order"},
		{Kind: DocInventory, State: DeclFailed, LastStatus: st(-1), LastInfo: "电子口岸校验失败"},
		{Kind: DocOrder, State: DeclPending, LastError: errCustomsNotConfigured.Message},
		{Kind: DocOrder, State: DeclPending, LastError: "the customs declaration agent cannot be reached"},
		{Kind: DocInventory, State: DeclReceived, LastStatus: st(InvtDetained), LastInfo: "查验扣留"},
		{Kind: DocInventory, State: DeclReceived, LastStatus: st(InvtInspection), UpdatedAt: now.Add(-3 * time.Hour)},
		{Kind: DocOrder, State: DeclSent, Attempts: maxSends, SentAt: &now, UpdatedAt: now.Add(-3 * time.Hour)},
		{Kind: DocWaybill, State: DeclPending, UpdatedAt: now.Add(-3 * time.Hour)},
		{Kind: DocWaybill, State: DeclSent, UpdatedAt: now.Add(-3 * time.Hour)},
	}
	for _, d := range rows {
		a := attentionOf(&d, now)
		if a == nil {
			t.Fatalf("%+v: no attention", d)
		}
		z := a.localized(zh)
		for _, s := range []string{z.Reason, z.ActionText} {
			if english.MatchString(s) {
				t.Errorf("%+v: English left in %q", d, s)
			}
		}
		if same := a.localized(context.Background()); *same != *a {
			t.Errorf("an English request must keep the English: %+v", same)
		}
	}
	// What our code writes as the payment declaration's receipts, next to customs' own words.
	v := &CustomsView{Documents: []CustomsDocument{{Kind: DocPayment, LastReceipt: &LastReceipt{Info: "WeChat Pay declared the payment to customs"},
		Receipts: []CustomsReceipt{{ReturnInfo: "WeChat Pay accepted the declaration and will submit it in its next batch"}, {ReturnInfo: "WeChat Pay is submitting the payment to customs"},
			{ReturnInfo: "WeChat Pay could not declare the payment to customs (FAIL): 参数错误"}, {ReturnInfo: "[Code:1312;Desc:商品备案信息不存在]"}}}}}
	v.localizeTexts(zh)
	d := v.Documents[0]
	for _, s := range []string{d.LastReceipt.Info, d.Receipts[0].ReturnInfo, d.Receipts[1].ReturnInfo, d.Receipts[2].ReturnInfo} {
		if english.MatchString(s) || !strings.Contains(s, "微信支付") {
			t.Errorf("receipt text %q", s)
		}
	}
	if d.Receipts[3].ReturnInfo != "[Code:1312;Desc:商品备案信息不存在]" {
		t.Errorf("customs' own words must stay: %q", d.Receipts[3].ReturnInfo)
	}
}
