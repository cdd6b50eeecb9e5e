package shop

import (
	"testing"
	"time"
)

// What each receipt status means for each document, and that a later
// step always outranks an earlier one (so a late receipt never moves a
// document back).
func TestDocumentStates(t *testing.T) {
	for _, c := range []struct {
		kind   string
		status int
		state  string
	}{
		{DocOrder, 2, DeclReceived}, {DocOrder, 3, DeclReceived}, {DocOrder, 4, DeclFailed}, {DocOrder, 100, DeclRejected},
		{DocOrder, 120, DeclAccepted}, {DocOrder, 399, DeclAccepted}, {DocOrder, -301, DeclFailed},
		{DocWaybill, 2, DeclReceived}, {DocWaybill, 120, DeclAccepted}, {DocWaybill, 100, DeclRejected}, {DocWaybill, 4, DeclFailed},
		{DocInventory, 1, DeclReceived}, {DocInventory, 2, DeclReceived}, {DocInventory, 120, DeclReceived},
		{DocInventory, 300, DeclReceived}, {DocInventory, 500, DeclReceived}, {DocInventory, 501, DeclReceived},
		{DocInventory, 800, DeclAccepted}, {DocInventory, 899, DeclAccepted}, {DocInventory, 100, DeclRejected},
		{DocInventory, 4, DeclFailed}, {DocInventory, -1, DeclFailed},
	} {
		if got := docStateOf(c.kind, c.status); got != c.state {
			t.Errorf("%s %d: %s, want %s", c.kind, c.status, got, c.state)
		}
	}
	for kind, life := range map[string][]int{
		DocOrder:     {2, 3, 120, 399},
		DocWaybill:   {2, 3, 120},
		DocInventory: {1, 2, 3, 120, 300, 500, 501, 800, 899},
	} {
		for i := 1; i < len(life); i++ {
			if docRank(kind, life[i]) <= docRank(kind, life[i-1]) {
				t.Errorf("%s: %d does not outrank %d", kind, life[i], life[i-1])
			}
		}
	}
	if docRank(DocInventory, 100) <= docRank(DocInventory, 120) || docRank(DocInventory, 800) <= docRank(DocInventory, 501) {
		t.Error("inventory: a rejection or a release must outrank what came before")
	}
}

// Customs' reasons, in its words or WeChat Pay's, become the brand's
// reason and action; waiting documents need a person only after a while.
func TestCustomsAttention(t *testing.T) {
	now := time.Now()
	st := func(n int) *int { return &n }
	for _, c := range []struct {
		d      declRow
		action string
	}{
		{declRow{Kind: DocInventory, State: DeclRejected, LastStatus: st(100), LastInfo: "清单: 订购人与支付人不一致"}, "ask_buyer_or_refund"},
		{declRow{Kind: DocPayment, State: DeclRejected, LastStatus: st(100), LastInfo: "identity check failed: the buyer is not the payer (WeChat Pay cert_check_result DIFFERENT)"}, "ask_buyer_or_refund"},
		{declRow{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "海关退单: 订购人身份信息校验不通过"}, "fix_identity"},
		{declRow{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "超过年度限额"}, "refund"},
		{declRow{Kind: DocOrder, State: DeclRejected, LastStatus: st(100), LastInfo: "商品备案信息不存在"}, "fix_product"},
		{declRow{Kind: DocWaybill, State: DeclRejected, LastStatus: st(100), LastInfo: "其他原因"}, "redeclare"},
		{declRow{Kind: DocOrder, State: DeclFailed, LastError: "the customs declaration agent refused the declaration: 报文结构错误"}, "redeclare"},
		{declRow{Kind: DocOrder, State: DeclPending, LastError: "this shop is live but has no live customs credentials"}, "configure_customs"},
		{declRow{Kind: DocOrder, State: DeclPending, LastError: "the customs declaration agent cannot be reached"}, "wait"},
		{declRow{Kind: DocInventory, State: DeclReceived, LastStatus: st(501), LastInfo: "查验扣留"}, "contact_agent"},
		{declRow{Kind: DocInventory, State: DeclReceived, LastStatus: st(500), UpdatedAt: now.Add(-3 * time.Hour)}, "wait"},
		{declRow{Kind: DocOrder, State: DeclSent, Attempts: maxSends, SentAt: &now, UpdatedAt: now.Add(-3 * time.Hour)}, "contact_agent"},
		{declRow{Kind: DocWaybill, State: DeclSent, UpdatedAt: now.Add(-3 * time.Hour)}, "wait"},
		{declRow{Kind: DocWaybill, State: DeclSent, UpdatedAt: now.Add(-time.Hour)}, ""},
		{declRow{Kind: DocInventory, State: DeclAccepted, LastStatus: st(800), UpdatedAt: now.Add(-48 * time.Hour)}, ""},
	} {
		a := attentionOf(&c.d, now)
		switch {
		case c.action == "" && a != nil:
			t.Errorf("%+v needs no person, got %+v", c.d, a)
		case c.action != "" && (a == nil || a.Action != c.action || a.Reason == "" || a.ActionText == ""):
			t.Errorf("%+v: %+v, want %s", c.d, a, c.action)
		}
	}
}
