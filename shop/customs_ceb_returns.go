package shop

// Receipts of the other customs documents of an order: the waybill
// (CEB511, answered by CEB512) the logistics partner declares, and the
// inventory list (CEB621, answered by CEB622) the declaration agent or the
// bonded warehouse declares once customs accepted the order. Neither receipt
// names the order: the agent answers per order (it is asked with the order
// number), so the parsers take the order number from the caller.

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/minishop/minishop/internal/errs"
)

// The customs documents of an order (customs_declarations.kind).
const (
	DocOrder     = "order"     // CEB311, declared by the shop
	DocPayment   = "payment"   // CEB411, declared by the payment company (WeChat Pay customs API)
	DocWaybill   = "waybill"   // CEB511, declared by the logistics partner
	DocInventory = "inventory" // CEB621, declared by the agent or the bonded warehouse
)

// CustomsDocs lists the documents in the order the 三单 view shows them.
var CustomsDocs = []string{DocOrder, DocPayment, DocWaybill, DocInventory}

// CEB622 returnStatus values of an inventory list, besides 2, 3, 4, 100
// and 120 (accepted into customs' system, not yet released).
const (
	InvtTempSaved  = 1
	InvtReview     = 300 // manual review
	InvtInspection = 500 // inspection
	InvtDetained   = 501 // detained
	InvtDetained2  = 502 // detained (other)
	InvtReleased   = 800 // released (放行): the goods may leave
	InvtClosed     = 899 // closed (结关)
)

// CEB512Message is a customs receipt of waybill declarations.
type CEB512Message struct {
	XMLName xml.Name          `xml:"http://www.chinaport.gov.cn/ceb CEB512Message"`
	GUID    string            `xml:"guid,attr"`
	Returns []LogisticsReturn `xml:"http://www.chinaport.gov.cn/ceb LogisticsReturn"`
}

// LogisticsReturn is one receipt of a waybill declaration.
type LogisticsReturn struct {
	GUID          string `xml:"http://www.chinaport.gov.cn/ceb guid"`
	LogisticsCode string `xml:"http://www.chinaport.gov.cn/ceb logisticsCode"`
	LogisticsNo   string `xml:"http://www.chinaport.gov.cn/ceb logisticsNo"`
	ReturnStatus  string `xml:"http://www.chinaport.gov.cn/ceb returnStatus"`
	ReturnTime    string `xml:"http://www.chinaport.gov.cn/ceb returnTime"`
	ReturnInfo    string `xml:"http://www.chinaport.gov.cn/ceb returnInfo"`
}

// CEB622Message is a customs receipt of inventory lists.
type CEB622Message struct {
	XMLName xml.Name          `xml:"http://www.chinaport.gov.cn/ceb CEB622Message"`
	GUID    string            `xml:"guid,attr"`
	Returns []InventoryReturn `xml:"http://www.chinaport.gov.cn/ceb InventoryReturn"`
}

// InventoryReturn is one receipt of an inventory list.
type InventoryReturn struct {
	GUID         string `xml:"http://www.chinaport.gov.cn/ceb guid"`
	CustomsCode  string `xml:"http://www.chinaport.gov.cn/ceb customsCode"`
	EBPCode      string `xml:"http://www.chinaport.gov.cn/ceb ebpCode"`
	EBCCode      string `xml:"http://www.chinaport.gov.cn/ceb ebcCode"`
	AgentCode    string `xml:"http://www.chinaport.gov.cn/ceb agentCode"`
	CopNo        string `xml:"http://www.chinaport.gov.cn/ceb copNo"`
	PreNo        string `xml:"http://www.chinaport.gov.cn/ceb preNo"`
	InvtNo       string `xml:"http://www.chinaport.gov.cn/ceb invtNo"`
	ReturnStatus string `xml:"http://www.chinaport.gov.cn/ceb returnStatus"`
	ReturnTime   string `xml:"http://www.chinaport.gov.cn/ceb returnTime"`
	ReturnInfo   string `xml:"http://www.chinaport.gov.cn/ceb returnInfo"`
}

type returnFields struct{ guid, status, at, info string }

func parseReturns(b []byte, what, kind, orderNo string, into any, fields func() []returnFields) ([]Receipt, error) {
	bad := func(msg string) error { return errs.E(errs.Invalid, "bad_receipt", what+": "+msg) }
	if len(b) > maxReceiptBytes {
		return nil, bad("document too large")
	}
	if orderNo == "" || len(orderNo) > 60 {
		return nil, bad("orderNo missing or too long")
	}
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(into); err != nil {
		return nil, bad("not a " + what + "Message: " + err.Error())
	}
	fs := fields()
	if len(fs) == 0 || len(fs) > 1000 {
		return nil, bad("1 to 1000 receipts expected")
	}
	out := make([]Receipt, 0, len(fs))
	for _, f := range fs {
		if strings.TrimSpace(f.guid) == "" {
			return nil, bad("guid missing")
		}
		r, err := parseReturn(f.guid, f.status, f.at, f.info)
		if err != nil {
			return nil, bad(err.Error())
		}
		r.Kind, r.OrderNo = kind, orderNo
		out = append(out, r)
	}
	return out, nil
}

// ParseCEB512 parses the waybill receipts the agent returned for order
// orderNo. It refuses (invalid) anything but a CEB512Message of 1 to 1000
// LogisticsReturn, each with a guid, a numeric status and a 17-digit
// returnTime. It never panics.
func ParseCEB512(b []byte, orderNo string) ([]Receipt, error) {
	var m CEB512Message
	return parseReturns(b, "CEB512", DocWaybill, orderNo, &m, func() []returnFields {
		out := make([]returnFields, len(m.Returns))
		for i, r := range m.Returns {
			out[i] = returnFields{r.GUID, r.ReturnStatus, r.ReturnTime, r.ReturnInfo}
		}
		return out
	})
}

// ParseCEB622 parses the inventory-list receipts the agent returned for
// order orderNo, with the same checks as ParseCEB512.
func ParseCEB622(b []byte, orderNo string) ([]Receipt, error) {
	var m CEB622Message
	return parseReturns(b, "CEB622", DocInventory, orderNo, &m, func() []returnFields {
		out := make([]returnFields, len(m.Returns))
		for i, r := range m.Returns {
			out[i] = returnFields{r.GUID, r.ReturnStatus, r.ReturnTime, r.ReturnInfo}
		}
		return out
	})
}

// docStateOf is the state a receipt of document kind leads to. An
// inventory list is accepted only when released (800, or closed 899); its
// 120 means customs took it in, not that the goods may leave.
func docStateOf(kind string, status int) string {
	switch {
	case kind != DocInventory:
	case status == InvtReleased || status == InvtClosed:
		return DeclAccepted
	case status == ReturnAccepted:
		return DeclReceived
	}
	return declStateOf(status)
}

// docRank orders receipt statuses along a document's life (see
// receiptRank), with the inventory list's own steps.
func docRank(kind string, status int) int {
	if kind != DocInventory {
		return receiptRank(status)
	}
	switch status {
	case InvtClosed:
		return 60
	case InvtReleased:
		return 55
	case ReturnRejected:
		return 50
	case InvtDetained, InvtDetained2:
		return 45
	case InvtInspection:
		return 42
	case InvtReview:
		return 35
	case ReturnAccepted:
		return 30
	case InvtTempSaved:
		return 2
	}
	return receiptRank(status)
}
