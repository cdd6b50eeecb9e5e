package shop

// The 三单 view of an order split into customs orders (see
// customs_split.go). Each customs order has its own documents: its order
// declaration, its waybill and its inventory list, and its part of the
// payment declaration (WeChat Pay's state of its sub_order_no). The view's
// four documents then stand for the order as a whole: for each kind, the
// document of the customs order furthest from done (rejected, failed,
// pending, not started, sent, received, accepted; one that needs a person
// first), named by its order_no; sub_orders lists every customs order with
// its amounts and documents. An order shipped from one warehouse is shown
// as before, without sub_orders.

import (
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CustomsSubOrder is one customs order of an order shipped from several
// warehouses: its number, warehouse, lines and amounts, and its four
// documents (order, payment, waybill, inventory).
type CustomsSubOrder struct {
	CustomsOrder
	Documents []CustomsDocument `json:"documents"`
}

type customsReceiptRow struct {
	Kind    string
	OrderNo string
	CustomsReceipt
}

// fillCustomsDocs sets the documents of v (order v.OrderID, whose number
// and status v has), and its sub-orders when the order is split.
func fillCustomsDocs(tx *gorm.DB, tid int64, v *CustomsView) error {
	rows, err := loadDocs(tx, tid, []int64{v.OrderID})
	if err != nil {
		return err
	}
	var rcs []customsReceiptRow
	if err := tx.Raw(`SELECT kind, order_no, guid, return_status, return_time, return_info FROM customs_receipts
		WHERE tenant_id = ? AND order_id = ? ORDER BY return_time, return_status LIMIT 1000`, tid, v.OrderID).Scan(&rcs).Error; err != nil {
		return err
	}
	byDoc := map[string][]CustomsReceipt{}
	for _, r := range rcs {
		r.ReturnTime = r.ReturnTime.UTC()
		byDoc[r.Kind+" "+r.OrderNo] = append(byDoc[r.Kind+" "+r.OrderNo], r.CustomsReceipt)
	}
	now := time.Now()
	docOf := func(d *declRow) CustomsDocument {
		doc := documentOf(d, v.OrderStatus, now)
		if rc := byDoc[d.Kind+" "+d.OrderNo]; rc != nil {
			doc.Receipts = rc
		}
		return doc
	}
	find := func(kind, no string) *declRow {
		for i := range rows {
			if rows[i].Kind == kind && rows[i].OrderNo == no {
				return &rows[i]
			}
		}
		return nil
	}
	var nos []string
	for _, r := range rows {
		if r.Kind == DocOrder {
			nos = append(nos, r.OrderNo)
		}
	}
	sort.Slice(nos, func(i, j int) bool { return customsOrderLess(nos[i], nos[j]) })

	if len(nos) <= 1 && (len(nos) == 0 || nos[0] == v.OrderNo) {
		for _, kind := range CustomsDocs {
			doc := notStartedDoc(kind)
			d := find(kind, v.OrderNo)
			if d != nil {
				doc = docOf(d)
			}
			v.Documents = append(v.Documents, doc)
			if kind == DocOrder && d != nil {
				v.Order = declarationOf(d, doc.Receipts)
			}
		}
		return nil
	}

	payDoc := notStartedDoc(DocPayment)
	if d := find(DocPayment, v.OrderNo); d != nil {
		payDoc = docOf(d)
	}
	var paySubs []paySubOrder
	if _, paySubs, err = loadPayCustoms(tx, tid, v.OrderID); err != nil {
		return err
	}
	parts := map[string]CustomsOrder{}
	if o, err := loadOrder(tx, tid, v.OrderID, 0, false); err != nil {
		return err
	} else if ps, err := SplitCustoms(o); err == nil {
		for _, p := range ps {
			parts[p.OrderNo] = p
		}
	}
	for _, no := range nos {
		part, ok := parts[no]
		if !ok { // the lines no longer make this customs order: shown without amounts
			part = CustomsOrder{OrderNo: no, WarehouseID: find(DocOrder, no).WarehouseID, LineNos: []int{}}
		}
		sub := CustomsSubOrder{CustomsOrder: part}
		for _, kind := range CustomsDocs {
			var doc CustomsDocument
			switch d := find(kind, no); {
			case kind == DocPayment:
				doc = subPaymentDoc(payDoc, no, paySubs)
			case d != nil:
				doc = docOf(d)
			default:
				doc = notStartedDoc(kind)
			}
			doc.OrderNo = no
			sub.Documents = append(sub.Documents, doc)
		}
		v.SubOrders = append(v.SubOrders, sub)
	}
	for k, kind := range CustomsDocs {
		if kind == DocPayment {
			v.Documents = append(v.Documents, payDoc)
			continue
		}
		worst := v.SubOrders[0].Documents[k]
		for _, s := range v.SubOrders[1:] {
			if d := s.Documents[k]; furtherFromDone(d, worst) {
				worst = d
			}
		}
		v.Documents = append(v.Documents, worst)
		if kind == DocOrder {
			v.Order = declarationOf(find(DocOrder, worst.OrderNo), worst.Receipts)
		}
	}
	return nil
}

func notStartedDoc(kind string) CustomsDocument {
	return CustomsDocument{Kind: kind, State: DocNotStarted, Receipts: []CustomsReceipt{}}
}

// declarationOf is order declaration d in the view's first layout.
func declarationOf(d *declRow, receipts []CustomsReceipt) *CustomsDeclaration {
	return &CustomsDeclaration{Kind: DocOrder, OrderNo: d.OrderNo, State: d.State, Attempt: d.Attempt, GUID: d.GUID,
		Sends: d.Attempts, LastStatus: d.LastStatus, LastInfo: d.LastInfo, LastReceiptAt: utcPtr(d.LastReceiptAt),
		LastError: d.LastError, SentAt: utcPtr(d.SentAt), UpdatedAt: d.UpdatedAt.UTC(), Receipts: receipts}
}

// doneRank orders document states from done (1) to furthest from it.
var doneRank = map[string]int{DeclAccepted: 1, DeclReceived: 2, DeclSent: 3, DocNotStarted: 4, DeclPending: 5, DeclFailed: 6, DeclRejected: 7}

func furtherFromDone(a, b CustomsDocument) bool {
	if doneRank[a.State] != doneRank[b.State] {
		return doneRank[a.State] > doneRank[b.State]
	}
	return a.Attention != nil && b.Attention == nil
}

// subPaymentDoc is customs order no's part of the payment declaration pay:
// while WeChat Pay works on the declaration, the state of its sub_order_no
// and the receipts that name it; otherwise (not started, pending, failed,
// rejected) the declaration's own.
func subPaymentDoc(pay CustomsDocument, no string, subs []paySubOrder) CustomsDocument {
	doc := pay
	doc.Receipts = []CustomsReceipt{}
	for _, r := range pay.Receipts {
		if strings.HasPrefix(r.ReturnInfo, no+" ") {
			doc.Receipts = append(doc.Receipts, r)
		}
	}
	if pay.State != DeclSent && pay.State != DeclReceived && pay.State != DeclAccepted {
		return doc
	}
	for _, s := range subs {
		if s.SubOrderNo != no || s.State == "" {
			continue
		}
		status, state := payStatus(s.State, "")
		doc.State = state
		doc.LastReceipt = &LastReceipt{Status: status, Info: strings.TrimSpace(s.State + " " + s.Explanation)}
		if n := len(doc.Receipts); n > 0 {
			doc.LastReceipt.Time = doc.Receipts[n-1].ReturnTime
		} else if s.ModifyTime != nil {
			doc.LastReceipt.Time = s.ModifyTime.UTC()
		}
	}
	return doc
}
