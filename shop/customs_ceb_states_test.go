package shop

import "testing"

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
