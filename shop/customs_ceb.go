package shop

// China customs CBEC import messages (CEB, 202205 edition): the CEB311
// order declaration the e-commerce enterprise sends, and the CEB312 receipt
// customs returns. Field order follows the official XSD (a copy is in
// testdata/customs/, and a test validates every message built here against
// it with xmllint). Amounts on the wire are yuan with two decimals; the
// order keeps fen.

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minishop/minishop/internal/errs"
)

// CEBNamespace is the namespace of every CEB message.
const CEBNamespace = "http://www.chinaport.gov.cn/ceb"

// Tenpay's customs registration, the payment company of WeChat Pay orders.
const (
	TenpayCustomsCode = "4403169D3W"
	TenpayCustomsName = "财付通支付科技有限公司"
)

// CEB312 returnStatus values of an order receipt.
const (
	ReturnReceived   = 2   // accepted by the e-port, being declared
	ReturnSent       = 3   // sent to customs
	ReturnSendFailed = 4   // sending to customs failed
	ReturnRejected   = 100 // customs rejected the order (退单)
	ReturnAccepted   = 120 // customs accepted the order (入库)
	ReturnConcluded  = 399 // customs concluded (审结)
)

// CEB311Message is an order declaration (ceb:CEB311Message).
type CEB311Message struct {
	XMLName      xml.Name     `xml:"ceb:CEB311Message"`
	GUID         string       `xml:"guid,attr"`
	Version      string       `xml:"version,attr"`
	XMLNS        string       `xml:"xmlns:ceb,attr"`
	Orders       []CEBOrder   `xml:"ceb:Order"`
	BaseTransfer BaseTransfer `xml:"ceb:BaseTransfer"`
}

// CEBOrder is one order of a CEB311 message.
type CEBOrder struct {
	Head  OrderHead   `xml:"ceb:OrderHead"`
	Lines []OrderItem `xml:"ceb:OrderList"`
}

// OrderHead is the head of a declared order, in the XSD's order.
type OrderHead struct {
	GUID               string `xml:"ceb:guid"`
	AppType            string `xml:"ceb:appType"`
	AppTime            string `xml:"ceb:appTime"`
	AppStatus          string `xml:"ceb:appStatus"`
	OrderType          string `xml:"ceb:orderType"`
	OrderNo            string `xml:"ceb:orderNo"`
	EBPCode            string `xml:"ceb:ebpCode"`
	EBPName            string `xml:"ceb:ebpName"`
	EBCCode            string `xml:"ceb:ebcCode"`
	EBCName            string `xml:"ceb:ebcName"`
	GoodsValue         string `xml:"ceb:goodsValue"`
	Freight            string `xml:"ceb:freight"`
	Discount           string `xml:"ceb:discount"`
	TaxTotal           string `xml:"ceb:taxTotal"`
	ActuralPaid        string `xml:"ceb:acturalPaid"`
	Currency           string `xml:"ceb:currency"`
	BuyerRegNo         string `xml:"ceb:buyerRegNo"`
	BuyerName          string `xml:"ceb:buyerName"`
	BuyerTelephone     string `xml:"ceb:buyerTelephone"`
	BuyerIDType        string `xml:"ceb:buyerIdType"`
	BuyerIDNumber      string `xml:"ceb:buyerIdNumber"`
	PayCode            string `xml:"ceb:payCode,omitempty"`
	PayName            string `xml:"ceb:payName,omitempty"`
	PayTransactionID   string `xml:"ceb:payTransactionId,omitempty"`
	BatchNumbers       string `xml:"ceb:batchNumbers,omitempty"`
	Consignee          string `xml:"ceb:consignee"`
	ConsigneeTelephone string `xml:"ceb:consigneeTelephone"`
	ConsigneeAddress   string `xml:"ceb:consigneeAddress"`
	ConsigneeDistrict  string `xml:"ceb:consigneeDistrict,omitempty"`
	Note               string `xml:"ceb:note,omitempty"`
}

// OrderItem is one line of a declared order (ceb:OrderList).
type OrderItem struct {
	GNum         int    `xml:"ceb:gnum"`
	ItemNo       string `xml:"ceb:itemNo,omitempty"`
	ItemName     string `xml:"ceb:itemName"`
	GModel       string `xml:"ceb:gmodel"`
	ItemDescribe string `xml:"ceb:itemDescribe,omitempty"`
	BarCode      string `xml:"ceb:barCode,omitempty"`
	Unit         string `xml:"ceb:unit"`
	Qty          string `xml:"ceb:qty"`
	Price        string `xml:"ceb:price"`
	TotalPrice   string `xml:"ceb:totalPrice"`
	Currency     string `xml:"ceb:currency"`
	Country      string `xml:"ceb:country"`
	Note         string `xml:"ceb:note,omitempty"`
}

// BaseTransfer names the sender of a message.
type BaseTransfer struct {
	CopCode string `xml:"ceb:copCode"`
	CopName string `xml:"ceb:copName"`
	DxpMode string `xml:"ceb:dxpMode"`
	DxpID   string `xml:"ceb:dxpId"`
	Note    string `xml:"ceb:note,omitempty"`
}

// CustomsCodes are a shop's customs registrations: the e-commerce
// enterprise (ebc), the platform (ebp) and the DXP id of its declaring
// channel; for live shops also the customs office and merchant customs
// number its payments are declared with (empty in test mode).
type CustomsCodes struct {
	EBCCode, EBCName     string
	EBPCode, EBPName     string
	DxpID                string
	Office, MchCustomsNo string
}

// Yuan formats fen as yuan with two decimals ("12.30"; negative amounts keep
// their sign). Exact: no floating point.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// DeclarationGUID is the 36-character upper-case guid of an order's
// declaration: derived from the tenant, the order number and the attempt,
// so a retried send of the same attempt carries the same guid (the
// gateway dedupes it) while a re-declaration gets a new one.
func DeclarationGUID(tenantID int64, orderNo string, attempt int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("minishop-ceb311:%d:%s:%d", tenantID, orderNo, attempt)))
	x := strings.ToUpper(hex.EncodeToString(h[:16]))
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// truncRunes cuts s to at most n characters (the XSD counts characters).
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// BuildCEB311 builds the declaration of a paid order o (with its lines)
// for the buyer identity b, as the shop with codes. appType is "1" (new) or
// "2" (change, for a re-declaration); guid identifies the message. It
// refuses (invalid) an order whose amounts do not satisfy acturalPaid =
// goodsValue + freight + taxTotal − discount, or whose lines lack customs
// data.
func BuildCEB311(o *Order, b *BuyerIdentity, codes CustomsCodes, guid, appType string, at time.Time) (*CEB311Message, error) {
	if o.ActuralPaid != o.GoodsValue+o.Freight+o.TaxTotal-o.Discount {
		return nil, errs.E(errs.Invalid, "customs_amounts", "acturalPaid must equal goodsValue + freight + taxTotal − discount")
	}
	if len(o.Lines) == 0 || len(o.Lines) > 99 {
		return nil, errs.E(errs.Invalid, "customs_lines", "a declared order has 1 to 99 lines")
	}
	if b == nil || b.Name == "" || b.IDNumber == "" {
		return nil, errs.E(errs.Invalid, "customs_buyer", "the order has no buyer identity")
	}
	a := o.Address
	head := OrderHead{
		GUID: guid, AppType: appType, AppTime: at.In(cst).Format("20060102150405"), AppStatus: "2", OrderType: "I",
		OrderNo: o.OutTradeNo, EBPCode: codes.EBPCode, EBPName: codes.EBPName, EBCCode: codes.EBCCode, EBCName: codes.EBCName,
		GoodsValue: Yuan(o.GoodsValue), Freight: Yuan(o.Freight), Discount: Yuan(o.Discount), TaxTotal: Yuan(o.TaxTotal),
		ActuralPaid: Yuan(o.ActuralPaid), Currency: "142",
		BuyerRegNo: "C" + strconv.FormatInt(o.CustomerID, 10), BuyerName: truncRunes(b.Name, 60), BuyerTelephone: a.Phone,
		BuyerIDType: "1", BuyerIDNumber: b.IDNumber,
		PayCode: TenpayCustomsCode, PayName: TenpayCustomsName, PayTransactionID: o.TransactionID,
		Consignee: truncRunes(a.Consignee, 100), ConsigneeTelephone: a.Phone,
		ConsigneeAddress: truncRunes(a.Province+a.City+a.District+a.Detail, 200),
	}
	if len(a.DistrictCode) == 6 {
		head.ConsigneeDistrict = a.DistrictCode
	}
	msg := &CEB311Message{GUID: guid, Version: "1.0", XMLNS: CEBNamespace,
		BaseTransfer: BaseTransfer{CopCode: codes.EBCCode, CopName: codes.EBCName, DxpMode: "DXP", DxpID: codes.DxpID}}
	order := CEBOrder{Head: head}
	for i, l := range o.Lines {
		if l.GName == "" || l.Unit == "" || len(l.OriginCountry) != 3 {
			return nil, errs.E(errs.Invalid, "customs_line", fmt.Sprintf("line %d lacks its customs name, unit or origin country", l.LineNo))
		}
		// Price is per unit in yuan; the XSD allows 5 decimals, so a unit
		// price in fen is always exact.
		order.Lines = append(order.Lines, OrderItem{
			GNum: i + 1, ItemNo: truncRunes(l.ItemRecordNo, 30), ItemName: truncRunes(l.GName, 250),
			GModel: truncRunes(gmodel(l), 510), BarCode: "", Unit: l.Unit, Qty: strconv.Itoa(l.Quantity),
			Price: Yuan(l.UnitPrice), TotalPrice: Yuan(l.Goods), Currency: "142", Country: l.OriginCountry,
			Note: "HS " + l.HSCode,
		})
	}
	msg.Orders = []CEBOrder{order}
	return msg, nil
}

// gmodel is the specification of a line: its SKU code and options.
func gmodel(l OrderLine) string {
	s := l.SKUCode
	if len(l.OptionValues) > 0 {
		s += " " + strings.Join(l.OptionValues, "/")
	}
	return s
}

// Marshal encodes m as UTF-8 XML with its declaration.
func (m *CEB311Message) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CEB312Message is a customs receipt of order declarations.
type CEB312Message struct {
	XMLName xml.Name      `xml:"http://www.chinaport.gov.cn/ceb CEB312Message"`
	GUID    string        `xml:"guid,attr"`
	Version string        `xml:"version,attr"`
	Returns []OrderReturn `xml:"http://www.chinaport.gov.cn/ceb OrderReturn"`
}

// OrderReturn is one receipt of an order declaration.
type OrderReturn struct {
	GUID         string `xml:"http://www.chinaport.gov.cn/ceb guid"`
	EBPCode      string `xml:"http://www.chinaport.gov.cn/ceb ebpCode"`
	EBCCode      string `xml:"http://www.chinaport.gov.cn/ceb ebcCode"`
	OrderNo      string `xml:"http://www.chinaport.gov.cn/ceb orderNo"`
	ReturnStatus string `xml:"http://www.chinaport.gov.cn/ceb returnStatus"`
	ReturnTime   string `xml:"http://www.chinaport.gov.cn/ceb returnTime"`
	ReturnInfo   string `xml:"http://www.chinaport.gov.cn/ceb returnInfo"`
}

// Receipt is a parsed, checked receipt of one of an order's customs
// documents. Kind is DocOrder (CEB312), DocWaybill (CEB512) or
// DocInventory (CEB622); empty means DocOrder.
type Receipt struct {
	Kind    string
	GUID    string
	EBCCode string
	OrderNo string
	Status  int
	Time    time.Time
	Info    string
}

// maxReceiptBytes bounds a CEB312 document.
const maxReceiptBytes = 1 << 20

// ParseCEB312 parses a CEB312 document into its receipts. It refuses
// (invalid) a document that is not a CEB312Message in the CEB namespace,
// or a receipt without order number, with a non-numeric status or a
// returnTime not of the form YYYYMMDDhhmmssSSS. It never panics.
func ParseCEB312(b []byte) ([]Receipt, error) {
	bad := func(msg string) error { return errs.E(errs.Invalid, "bad_receipt", "CEB312: "+msg) }
	if len(b) > maxReceiptBytes {
		return nil, bad("document too large")
	}
	var m CEB312Message
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = nil
	if err := dec.Decode(&m); err != nil {
		return nil, bad("not a CEB312Message: " + err.Error())
	}
	if len(m.Returns) == 0 || len(m.Returns) > 1000 {
		return nil, bad("1 to 1000 OrderReturn expected")
	}
	out := make([]Receipt, 0, len(m.Returns))
	for _, r := range m.Returns {
		no := strings.TrimSpace(r.OrderNo)
		if no == "" || len(no) > 60 {
			return nil, bad("orderNo missing or too long")
		}
		rc, err := parseReturn(r.GUID, r.ReturnStatus, r.ReturnTime, r.ReturnInfo)
		if err != nil {
			return nil, bad(err.Error())
		}
		rc.Kind, rc.EBCCode, rc.OrderNo = DocOrder, strings.TrimSpace(r.EBCCode), no
		out = append(out, rc)
	}
	return out, nil
}

// parseReturn checks the fields every CEB receipt shares: a numeric
// returnStatus and a returnTime of the form YYYYMMDDhhmmssSSS (China time).
func parseReturn(guid, status, at, info string) (Receipt, error) {
	st, err := strconv.Atoi(strings.TrimSpace(status))
	if err != nil || st < -9999 || st > 9999 {
		return Receipt{}, fmt.Errorf("returnStatus is not a status code")
	}
	ts := strings.TrimSpace(at)
	if len(ts) != 17 {
		return Receipt{}, fmt.Errorf("returnTime must be YYYYMMDDhhmmssSSS")
	}
	t, err := time.ParseInLocation("20060102150405", ts[:14], cst)
	ms, err2 := strconv.Atoi(ts[14:])
	if err != nil || err2 != nil || ms < 0 {
		return Receipt{}, fmt.Errorf("returnTime must be YYYYMMDDhhmmssSSS")
	}
	return Receipt{GUID: strings.TrimSpace(guid), Status: st, Time: t.Add(time.Duration(ms) * time.Millisecond).UTC(),
		Info: truncRunes(strings.TrimSpace(info), 1000)}, nil
}

// receiptRank orders receipt statuses along the declaration's life, so a
// late "2" after "120" cannot move it back. Terminal outcomes (100, 120,
// 399) outrank the intermediate ones; an error (negative, or 4) ranks
// lowest among them.
func receiptRank(status int) int {
	switch {
	case status == ReturnConcluded:
		return 50
	case status == ReturnAccepted:
		return 40
	case status == ReturnRejected:
		return 40
	case status == ReturnSent:
		return 20
	case status == ReturnReceived:
		return 10
	case status == ReturnSendFailed || status < 0:
		return 15
	}
	return 5
}
