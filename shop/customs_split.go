package shop

// Orders split into customs orders. Customs matches the order (CEB311),
// the payment (CEB411, pushed by WeChat Pay) and the waybill (CEB511)
// against the inventory list (CEB621) by order number. An order that ships
// from several warehouses is paid once but declared as one customs order per
// warehouse, numbered out_trade_no-1, -2, … in the order of its lines (the
// first line's warehouse is -1): the payment declaration sends the same
// numbers as sub_order_no (splitPayment), each order declaration carries
// one of them as orderNo with that warehouse's lines and amounts, and the
// agent's waybill and inventory list follow each of them. An order shipped
// from one warehouse is one customs order numbered out_trade_no.
//
// Amounts: every line already carries its share of the order's freight and
// discount (allocated at checkout in proportion to goods value, largest
// remainder first, so the shares add up to the fen) and its own tax. A
// customs order's goodsValue, freight, discount and taxTotal are the sums
// over its lines, and its acturalPaid = goodsValue + freight + taxTotal −
// discount is the sum of its lines' totals: the payment's order_fee of that
// sub-order. The customs orders of an order add up to its totals exactly;
// were an order's totals ever to differ from its lines' sums, the last
// customs order would take the difference (as the payment split does).

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/minishop/minishop/internal/errs"
)

// CustomsOrder is one customs order of an order: its number (the order's
// out_trade_no, or out_trade_no-N for the N-th warehouse of a split order),
// its warehouse (nil when the order is not split), the line numbers it
// carries and its amounts in fen.
type CustomsOrder struct {
	OrderNo     string `json:"order_no"`
	WarehouseID *int64 `json:"warehouse_id"`
	LineNos     []int  `json:"line_nos"`
	GoodsValue  int64  `json:"goods_value"`
	Freight     int64  `json:"freight"`
	Discount    int64  `json:"discount"`
	TaxTotal    int64  `json:"tax_total"`
	ActuralPaid int64  `json:"actural_paid"`
}

// SplitCustoms cuts order o (with its lines) into its customs orders: one
// per warehouse, in the order the warehouses first appear in the lines,
// numbered as the payment declaration numbers its sub-orders. A
// single-warehouse order is one customs order with the order's own number
// and amounts. invalid when o has no lines or the lines' goods values do
// not add up to the order's (the lines are the declaration's body).
func SplitCustoms(o *Order) ([]CustomsOrder, error) {
	if len(o.Lines) == 0 {
		return nil, errs.E(errs.Invalid, "customs_lines", "a declared order has 1 to 99 lines")
	}
	var parts []CustomsOrder
	index := map[int64]int{}
	for _, l := range o.Lines {
		i, ok := index[l.WarehouseID]
		if !ok {
			i = len(parts)
			index[l.WarehouseID] = i
			w := l.WarehouseID
			parts = append(parts, CustomsOrder{WarehouseID: &w})
		}
		p := &parts[i]
		p.LineNos = append(p.LineNos, l.LineNo)
		p.GoodsValue += l.Goods
		p.Freight += l.FreightShare
		p.Discount += l.DiscountShare
		p.TaxTotal += l.Tax
	}
	if len(parts) == 1 {
		p := &parts[0]
		if p.GoodsValue != o.GoodsValue {
			return nil, errs.E(errs.Invalid, "customs_amounts", "the order's lines do not add up to its goods value")
		}
		p.OrderNo, p.WarehouseID = o.OutTradeNo, nil
		p.Freight, p.Discount, p.TaxTotal, p.ActuralPaid = o.Freight, o.Discount, o.TaxTotal, o.ActuralPaid
		return parts, nil
	}
	var goods, freight, discount, tax int64
	for i := range parts {
		p := &parts[i]
		p.OrderNo = o.OutTradeNo + "-" + strconv.Itoa(i+1)
		goods += p.GoodsValue
		freight += p.Freight
		discount += p.Discount
		tax += p.TaxTotal
	}
	if goods != o.GoodsValue {
		return nil, errs.E(errs.Invalid, "customs_amounts", "the order's lines do not add up to its goods value")
	}
	last := &parts[len(parts)-1]
	last.Freight += o.Freight - freight
	last.Discount += o.Discount - discount
	last.TaxTotal += o.TaxTotal - tax
	for i := range parts {
		p := &parts[i]
		p.ActuralPaid = p.GoodsValue + p.Freight + p.TaxTotal - p.Discount
		if p.Freight < 0 || p.Discount < 0 || p.TaxTotal < 0 || p.ActuralPaid <= 0 {
			return nil, errs.E(errs.Invalid, "customs_amounts", fmt.Sprintf("customs order %s does not get positive amounts", p.OrderNo))
		}
	}
	return parts, nil
}

// CustomsOrderOf returns customs order orderNo of o (see SplitCustoms) as
// an order of its own, the input of BuildCEB311: its number, its lines
// (renumbered from 1 in the message) and its amounts. invalid as
// SplitCustoms; not_found when o has no such customs order.
func CustomsOrderOf(o *Order, orderNo string) (*Order, error) {
	sub, _, err := customsOrderOf(o, orderNo)
	return sub, err
}

func customsOrderOf(o *Order, orderNo string) (*Order, *CustomsOrder, error) {
	parts, err := SplitCustoms(o)
	if err != nil {
		return nil, nil, err
	}
	for i := range parts {
		p := &parts[i]
		if p.OrderNo != orderNo {
			continue
		}
		sub := *o
		sub.OutTradeNo = p.OrderNo
		sub.GoodsValue, sub.Freight, sub.Discount, sub.TaxTotal, sub.ActuralPaid = p.GoodsValue, p.Freight, p.Discount, p.TaxTotal, p.ActuralPaid
		in := map[int]bool{}
		for _, n := range p.LineNos {
			in[n] = true
		}
		sub.Lines = nil
		for _, l := range o.Lines {
			if in[l.LineNo] {
				sub.Lines = append(sub.Lines, l)
			}
		}
		return &sub, p, nil
	}
	return nil, nil, errs.E(errs.NotFound, "customs_order_not_found", "the order has no customs order "+orderNo)
}

// customsOrderLess sorts customs order numbers as they were numbered:
// out_trade_no-2 before out_trade_no-10.
func customsOrderLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return strings.Compare(a, b) < 0
}
