package shop_test

import (
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/shop"
)

// xmllint returns the path of xmllint, failing the test with the way to get
// it when it is missing.
func xmllint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate customs messages against the official XSD: run scripts/ensure-tools.sh xmllint (Debian package libxml2-utils)")
	}
	return p
}

// validateXSD validates doc against the CEB 202205 import schema.
func validateXSD(t *testing.T, doc []byte) error {
	t.Helper()
	f := filepath.Join(t.TempDir(), "msg.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint(t), "--noout", "--nonet", "--schema", "testdata/customs/ceb-import-202205.xsd", f).CombinedOutput()
	if err != nil {
		return &xsdError{string(out)}
	}
	return nil
}

type xsdError struct{ out string }

func (e *xsdError) Error() string { return e.out }

func customsLine(n int, qty int, unit int64, rec string) shop.OrderLine {
	return shop.OrderLine{LineNo: n, SKUCode: "SKU-" + rec, OptionValues: []string{"50ml"}, Quantity: qty, UnitPrice: unit, Goods: unit * int64(qty),
		HSCode: "3304990099", GName: "面霜", ItemRecordNo: rec, OriginCountry: "330", Unit: "007", TradeMode: "1210"}
}

func customsOrder(no string, freight, discount, tax int64, lines ...shop.OrderLine) *shop.Order {
	var goods int64
	for _, l := range lines {
		goods += l.Goods
	}
	return &shop.Order{ID: 7, OutTradeNo: no, CustomerID: 42, GoodsValue: goods, Freight: freight, Discount: discount, TaxTotal: tax,
		ActuralPaid: goods + freight + tax - discount, TransactionID: "4200000001202611300001",
		Address: shop.OrderAddress{Consignee: "张三", Phone: "13800138000", DistrictCode: "310104", Province: "上海市", City: "上海市", District: "徐汇区", Detail: "漕溪北路 1 号"},
		Lines:   lines}
}

var testCodes = shop.CustomsCodes{EBCCode: "SB00000001", EBCName: "测试电商企业", EBPCode: "SBMINISHOP", EBPName: "测试平台", DxpID: "DXPSANDBOX0000001"}

// Messages built from orders of every shape validate against the official
// XSD, and carry the amounts in yuan with acturalPaid = goodsValue +
// freight + taxTotal − discount.
func TestCEB311ValidatesAgainstXSD(t *testing.T) {
	buyer := &shop.BuyerIdentity{Name: "张三", IDNumber: "11010519491231002X"}
	cases := []struct {
		name  string
		o     *shop.Order
		paid  string // acturalPaid in yuan, computed by hand
		lines int
	}{
		// ¥129 × 1, 9.1%: 1173.9 → 1174 fen tax.
		{"one line", customsOrder("M0001A", 0, 0, 1174, customsLine(1, 1, 12900, "REC1")), "140.74", 1},
		{"several lines", customsOrder("M0002A", 0, 0, 2730, customsLine(1, 2, 5000, "REC1"), customsLine(2, 1, 20000, "REC2")), "327.30", 2},
		{"with freight", customsOrder("M0003A", 1000, 0, 1265, customsLine(1, 1, 12900, "REC1")), "151.65", 1},
		{"with discount", customsOrder("M0004A", 1000, 2000, 1083, customsLine(1, 1, 12900, "REC1")), "129.83", 1},
		// Premium cosmetics, 23.06%: ¥450 → 10376 fen tax.
		{"premium cosmetics", customsOrder("M0005A", 0, 0, 10376, customsLine(1, 1, 45000, "REC9")), "553.76", 1},
	}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			guid := shop.DeclarationGUID(1, c.o.OutTradeNo, 1)
			s := validCEB311(t, c.o, buyer, guid, at)
			for _, want := range []string{"<ceb:acturalPaid>" + c.paid + "</ceb:acturalPaid>", "<ceb:buyerIdNumber>11010519491231002X</ceb:buyerIdNumber>",
				"<ceb:orderNo>" + c.o.OutTradeNo + "</ceb:orderNo>", "<ceb:appTime>20261130160000</ceb:appTime>", `guid="` + guid + `"`,
				"<ceb:payCode>4403169D3W</ceb:payCode>", "<ceb:consigneeDistrict>310104</ceb:consigneeDistrict>"} {
				if !strings.Contains(s, want) {
					t.Errorf("missing %s in\n%s", want, s)
				}
			}
			if n := strings.Count(s, "<ceb:OrderList>"); n != c.lines {
				t.Errorf("%d lines", n)
			}
		})
	}
	t.Run("split order", func(t *testing.T) { splitCEB311(t, buyer, at) })
}

// validCEB311 builds the declaration of o and checks it against the XSD.
func validCEB311(t *testing.T, o *shop.Order, buyer *shop.BuyerIdentity, guid string, at time.Time) string {
	t.Helper()
	m, err := shop.BuildCEB311(o, buyer, testCodes, guid, "1", at)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := validateXSD(t, doc); err != nil {
		t.Fatalf("schema: %v\n%s", err, doc)
	}
	return string(doc)
}

// splitCEB311 checks the messages of an order shipped from two warehouses
// (lines 1 and 3 from one, line 2 from the other), priced by the checkout's
// own rules with freight and a discount that do not divide evenly: one
// message per warehouse, numbered as the payment's sub-orders, each valid,
// with its own lines and amounts, the amounts adding up to the order's.
func splitCEB311(t *testing.T, buyer *shop.BuyerIdentity, at time.Time) {
	lines := []shop.OrderLine{customsLine(1, 2, 5000, "REC1"), customsLine(2, 1, 20000, "REC2"), customsLine(3, 3, 333, "REC3")}
	lines[0].WarehouseID, lines[1].WarehouseID, lines[2].WarehouseID = 11, 12, 11
	rates := []*big.Rat{big.NewRat(91, 1000), big.NewRat(2306, 10000), big.NewRat(91, 1000)}
	var pl []shop.PricedLine
	for i, l := range lines {
		pl = append(pl, shop.PricedLine{Goods: l.Goods, Rate: rates[i]})
	}
	pr := shop.PriceOrder(pl, 1001, 299)
	for i := range lines {
		l := &lines[i]
		l.FreightShare, l.DiscountShare, l.Tax = pr.FreightShares[i], pr.DiscountShares[i], pr.Taxes[i]
		l.Total = l.Goods + l.FreightShare + l.Tax - l.DiscountShare
	}
	o := customsOrder("M0009A", 1001, 299, pr.TaxTotal, lines...)
	parts, err := shop.SplitCustoms(o)
	if err != nil || len(parts) != 2 {
		t.Fatalf("split: %+v %v", parts, err)
	}
	want := []struct {
		no    string
		lines []shop.OrderLine
	}{{"M0009A-1", []shop.OrderLine{lines[0], lines[2]}}, {"M0009A-2", []shop.OrderLine{lines[1]}}}
	var goods, freight, discount, tax, paid int64
	for i, p := range parts {
		w := want[i]
		var g, f, d, x, total int64
		for _, l := range w.lines {
			g, f, d, x, total = g+l.Goods, f+l.FreightShare, d+l.DiscountShare, x+l.Tax, total+l.Total
		}
		if p.OrderNo != w.no || p.WarehouseID == nil || *p.WarehouseID != w.lines[0].WarehouseID || len(p.LineNos) != len(w.lines) ||
			p.GoodsValue != g || p.Freight != f || p.Discount != d || p.TaxTotal != x || p.ActuralPaid != total ||
			p.ActuralPaid != p.GoodsValue+p.Freight+p.TaxTotal-p.Discount {
			t.Errorf("customs order %d: %+v, want %s with goods %d freight %d discount %d tax %d paid %d", i, p, w.no, g, f, d, x, total)
		}
		goods, freight, discount, tax, paid = goods+p.GoodsValue, freight+p.Freight, discount+p.Discount, tax+p.TaxTotal, paid+p.ActuralPaid
		sub, err := shop.CustomsOrderOf(o, p.OrderNo)
		if err != nil {
			t.Fatal(err)
		}
		s := validCEB311(t, sub, buyer, shop.DeclarationGUID(1, p.OrderNo, 1), at)
		for _, want := range []string{"<ceb:orderNo>" + w.no + "</ceb:orderNo>", "<ceb:acturalPaid>" + shop.Yuan(total) + "</ceb:acturalPaid>",
			"<ceb:goodsValue>" + shop.Yuan(g) + "</ceb:goodsValue>", "<ceb:freight>" + shop.Yuan(f) + "</ceb:freight>",
			"<ceb:discount>" + shop.Yuan(d) + "</ceb:discount>", "<ceb:taxTotal>" + shop.Yuan(x) + "</ceb:taxTotal>",
			"<ceb:itemNo>" + w.lines[0].ItemRecordNo + "</ceb:itemNo>", "<ceb:payTransactionId>" + o.TransactionID + "</ceb:payTransactionId>"} {
			if !strings.Contains(s, want) {
				t.Errorf("missing %s in\n%s", want, s)
			}
		}
		if n := strings.Count(s, "<ceb:OrderList>"); n != len(w.lines) || !strings.Contains(s, fmt.Sprintf("<ceb:gnum>%d</ceb:gnum>", len(w.lines))) {
			t.Errorf("%s: %d lines", w.no, n)
		}
	}
	if goods != o.GoodsValue || freight != 1001 || discount != 299 || tax != o.TaxTotal || paid != o.ActuralPaid {
		t.Errorf("the customs orders add up to goods %d freight %d discount %d tax %d paid %d; the order is %+v", goods, freight, discount, tax, paid, o)
	}
	if _, err := shop.CustomsOrderOf(o, "M0009A"); err == nil {
		t.Error("a split order declared under its own number")
	}
	// One warehouse: one customs order, the order itself.
	one := customsOrder("M0010A", 1000, 0, 1265, customsLine(1, 1, 12900, "REC1"))
	if ps, err := shop.SplitCustoms(one); err != nil || len(ps) != 1 || ps[0].OrderNo != "M0010A" || ps[0].WarehouseID != nil || ps[0].ActuralPaid != one.ActuralPaid {
		t.Errorf("one warehouse: %+v %v", ps, err)
	}
}

// The validation can fail: a message missing a required field, or an order
// whose amounts do not add up, is refused.
func TestCEB311Refusals(t *testing.T) {
	buyer := &shop.BuyerIdentity{Name: "张三", IDNumber: "11010519491231002X"}
	o := customsOrder("M0006A", 0, 0, 1174, customsLine(1, 1, 12900, "REC1"))
	m, err := shop.BuildCEB311(o, buyer, testCodes, shop.DeclarationGUID(1, o.OutTradeNo, 1), "1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m.Orders[0].Head.EBCName = ""
	doc, _ := m.Marshal()
	if err := validateXSD(t, doc); err == nil || !strings.Contains(err.Error(), "ebcName") {
		t.Errorf("empty ebcName passed the schema: %v", err)
	}
	bad := customsOrder("M0007A", 0, 0, 1174, customsLine(1, 1, 12900, "REC1"))
	bad.ActuralPaid++
	if _, err := shop.BuildCEB311(bad, buyer, testCodes, "X", "1", time.Now()); err == nil {
		t.Error("acturalPaid off by a fen was built")
	}
	noData := customsOrder("M0008A", 0, 0, 1174, customsLine(1, 1, 12900, "REC1"))
	noData.Lines[0].GName = ""
	if _, err := shop.BuildCEB311(noData, buyer, testCodes, "X", "1", time.Now()); err == nil {
		t.Error("a line without customs name was built")
	}
	// The official sample validates with the same schema (the check is not vacuous).
	sample, err := os.ReadFile("testdata/customs/CEB311Message.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateXSD(t, sample); err != nil {
		t.Errorf("official sample: %v", err)
	}
}

func TestDeclarationGUID(t *testing.T) {
	g := shop.DeclarationGUID(3, "M123456", 1)
	if len(g) != 36 || strings.ToUpper(g) != g || g != shop.DeclarationGUID(3, "M123456", 1) {
		t.Errorf("guid %q", g)
	}
	if g == shop.DeclarationGUID(3, "M123456", 2) || g == shop.DeclarationGUID(4, "M123456", 1) {
		t.Error("attempts or tenants share a guid")
	}
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 100: "1.00", 12345: "123.45", -250: "-2.50"} {
		if got := shop.Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, want)
		}
	}
}

func TestParseCEB312Sample(t *testing.T) {
	b, err := os.ReadFile("testdata/customs/CEB312Message.xml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := shop.ParseCEB312(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 10 || rs[0].OrderNo != "order20160321116420545" || rs[0].Status != 2 || !strings.HasPrefix(rs[0].Info, "新增申报成功") ||
		!rs[0].Time.Equal(time.Date(2016, 4, 28, 10, 22, 38, 0, time.UTC)) {
		t.Errorf("receipts: %+v", rs)
	}
	for _, bad := range []string{"", "<x/>", `<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb"></CEB312Message>`,
		`<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb"><OrderReturn><orderNo>A</orderNo><returnStatus>x</returnStatus><returnTime>20160428182238000</returnTime></OrderReturn></CEB312Message>`,
		`<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb"><OrderReturn><orderNo>A</orderNo><returnStatus>2</returnStatus><returnTime>2016</returnTime></OrderReturn></CEB312Message>`,
		`<CEB312Message><OrderReturn><orderNo>A</orderNo><returnStatus>2</returnStatus><returnTime>20160428182238000</returnTime></OrderReturn></CEB312Message>`} {
		if _, err := shop.ParseCEB312([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseCEB312(f *testing.F) {
	sample, err := os.ReadFile("testdata/customs/CEB312Message.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb"><OrderReturn><orderNo>A</orderNo><returnStatus>-1</returnStatus><returnTime>20160428182238999</returnTime><returnInfo>x</returnInfo></OrderReturn></CEB312Message>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := shop.ParseCEB312(b)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.OrderNo == "" || len(r.OrderNo) > 60 || r.Time.IsZero() {
				t.Errorf("accepted a bad receipt: %+v", r)
			}
		}
	})
}
