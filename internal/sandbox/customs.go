package sandbox

// A stand-in for a customs declaration agent (报关代理) in front of the
// China e-port. The shop posts a CEB311 order declaration; the agent signs
// it with its e-port key (the signature needs the agent's UKey on its own
// host, see the wire-format reference §4) and forwards it over DXP; customs
// answers with CEB312 receipts that come back to the agent, not to the shop.
// So the shop fetches them by polling the agent, the same way WeChat Pay's
// customs API must be polled: no inbound endpoint to expose or secure.
//
//	POST /customs-agent/v1/ceb311            body: a CEB311Message (XML)
//	GET  /customs-agent/v1/ceb312?ebcCode=&orderNo=   the order declaration's receipts due so far, as a CEB312Message
//	GET  /customs-agent/v1/ceb512?ebcCode=&orderNo=   the waybill's receipts (CEB512Message)
//	GET  /customs-agent/v1/ceb622?ebcCode=&orderNo=   the inventory list's receipts (CEB622Message)
//	POST /sandbox/v1/customs/faults          {"order_no","return_info"}: customs rejects (100) that order's next declaration;
//	                                         {"order_no","document":"order|waybill|inventory","return_status","return_info"}:
//	                                         that document of the order's next declaration ends with return_status
//	                                         (100 rejected, 4 not passed to customs, 501 detained: inventory only);
//	                                         {"order_no","silent":true}: the e-port never answers the next declaration;
//	                                         {"step_ms"}: time between receipts (default 1000)
//
// Each accepted declaration gets its receipts over time: 2 (e-port
// received) at once, 3 (sent to customs) one step later, then 120
// (accepted) or 100 (rejected, with the reason) a step after that. The same
// message (same guid) posted again is acknowledged as a duplicate and
// changes nothing. Once customs accepted the order, the agent declares the
// waybill (CEB511, for the logistics partner) and the inventory list
// (CEB621): waybill 2 at step 3 and 120 at step 4; inventory list 2 at step
// 3, 120 at step 4 and 800 (released) at step 5. Their message guids are
// derived from the order declaration's, so each re-declaration of the order
// brings new ones.
//
// Orders split into customs orders (one per warehouse, orderNo =
// out_trade_no-N, the sub_order_no of their payment declaration) are
// declared, answered and faulted each under its own number: a fault for
// one customs order leaves the others alone. Before releasing an inventory
// list the agent plays customs' 三单 comparison against the sandbox's
// WeChat Pay: when the payment (payTransactionId) was declared there, the
// declaration of the same number (sub_order_no, or out_trade_no when not
// split) must exist and its order_fee equal the order's acturalPaid, else
// the inventory list is rejected (100, "三单对碰失败: …"); the release
// waits until that payment declaration succeeded. The verdict is
// taken once per message.

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const customsDefaultStep = time.Second

type customsState struct {
	now   func() time.Time
	pays  func(txn string) (payDecls, bool) // the sandbox WeChat Pay's customs declarations of a payment
	mu    sync.Mutex
	step  time.Duration
	decls map[string][]*customsDecl      // ebcCode+" "+orderNo -> declarations, oldest first
	fault map[string]map[string]docFault // orderNo -> document -> how the next declaration's document ends
}

// docFault is how a document of a declaration ends instead of being
// accepted: with status and info, or (silent) without any answer.
type docFault struct {
	status int
	info   string
	silent bool
}

type customsDecl struct {
	guid, ebpCode, ebcCode, orderNo string
	txn                             string // payTransactionId
	paid                            int64  // acturalPaid, fen
	at                              time.Time
	step                            time.Duration
	fault                           map[string]docFault
	compared                        bool   // the 三单 comparison was made
	mismatch                        string // and why it failed ("" when it passed)
}

func (s *Server) mountCustoms(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	c := &customsState{now: s.now, step: customsDefaultStep, decls: map[string][]*customsDecl{}, fault: map[string]map[string]docFault{},
		pays: s.payDeclsOf(control["/sandbox/v1/pay/customs-declarations"])}
	mux.HandleFunc("POST /customs-agent/v1/ceb311", c.declare)
	mux.HandleFunc("GET /customs-agent/v1/ceb312", c.receipts)
	mux.HandleFunc("GET /customs-agent/v1/ceb512", c.waybillReceipts)
	mux.HandleFunc("GET /customs-agent/v1/ceb622", c.inventoryReceipts)
	control["/sandbox/v1/customs/faults"] = c.faults
}

type ceb311In struct {
	XMLName xml.Name `xml:"http://www.chinaport.gov.cn/ceb CEB311Message"`
	GUID    string   `xml:"guid,attr"`
	Orders  []struct {
		Head struct {
			GUID               string `xml:"guid"`
			AppType            string `xml:"appType"`
			AppTime            string `xml:"appTime"`
			AppStatus          string `xml:"appStatus"`
			OrderType          string `xml:"orderType"`
			OrderNo            string `xml:"orderNo"`
			EBPCode            string `xml:"ebpCode"`
			EBPName            string `xml:"ebpName"`
			EBCCode            string `xml:"ebcCode"`
			EBCName            string `xml:"ebcName"`
			GoodsValue         string `xml:"goodsValue"`
			Freight            string `xml:"freight"`
			Discount           string `xml:"discount"`
			TaxTotal           string `xml:"taxTotal"`
			ActuralPaid        string `xml:"acturalPaid"`
			Currency           string `xml:"currency"`
			BuyerRegNo         string `xml:"buyerRegNo"`
			BuyerName          string `xml:"buyerName"`
			BuyerTelephone     string `xml:"buyerTelephone"`
			BuyerIDType        string `xml:"buyerIdType"`
			BuyerIDNumber      string `xml:"buyerIdNumber"`
			PayTransactionID   string `xml:"payTransactionId"`
			Consignee          string `xml:"consignee"`
			ConsigneeTelephone string `xml:"consigneeTelephone"`
			ConsigneeAddress   string `xml:"consigneeAddress"`
		} `xml:"OrderHead"`
		Lines []struct {
			GNum       string `xml:"gnum"`
			ItemName   string `xml:"itemName"`
			GModel     string `xml:"gmodel"`
			Unit       string `xml:"unit"`
			Qty        string `xml:"qty"`
			Price      string `xml:"price"`
			TotalPrice string `xml:"totalPrice"`
			Currency   string `xml:"currency"`
			Country    string `xml:"country"`
		} `xml:"OrderList"`
	} `xml:"Order"`
	BaseTransfer *struct {
		CopCode string `xml:"copCode"`
		CopName string `xml:"copName"`
		DxpMode string `xml:"dxpMode"`
		DxpID   string `xml:"dxpId"`
	} `xml:"BaseTransfer"`
}

// customsFen parses a CEB amount (yuan, up to 5 decimals) into fen; ok is
// false for anything else, or for fractions of a fen.
func customsFen(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 14 || len(frac) > 5 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, false
	}
	frac += "00000"
	if strings.Trim(frac[2:], "0") != "" {
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac[:2], 10, 64)
	return w*100 + f, true
}

func agentError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// validate checks what the e-port checks before anything else: required
// fields, fixed values and the amounts rule. It returns a message in the
// style of the e-port's error receipts, or "".
func (m *ceb311In) validate() string {
	if len(m.GUID) != 36 || strings.ToUpper(m.GUID) != m.GUID {
		return "报文guid必须为36位大写"
	}
	if len(m.Orders) == 0 || len(m.Orders) > 100 || m.BaseTransfer == nil || m.BaseTransfer.CopCode == "" || m.BaseTransfer.DxpMode != "DXP" {
		return "报文结构错误: Order 1..100 与 BaseTransfer 必填"
	}
	for _, o := range m.Orders {
		h := o.Head
		for name, v := range map[string]string{"guid": h.GUID, "appType": h.AppType, "appTime": h.AppTime, "appStatus": h.AppStatus,
			"orderType": h.OrderType, "orderNo": h.OrderNo, "ebpCode": h.EBPCode, "ebpName": h.EBPName, "ebcCode": h.EBCCode,
			"ebcName": h.EBCName, "buyerRegNo": h.BuyerRegNo, "buyerName": h.BuyerName, "buyerTelephone": h.BuyerTelephone,
			"buyerIdType": h.BuyerIDType, "buyerIdNumber": h.BuyerIDNumber, "consignee": h.Consignee,
			"consigneeTelephone": h.ConsigneeTelephone, "consigneeAddress": h.ConsigneeAddress} {
			if strings.TrimSpace(v) == "" {
				return "表头字段[" + name + "]不能为空"
			}
		}
		if h.AppType != "1" && h.AppType != "2" && h.AppType != "3" {
			return "appType只能为1/2/3"
		}
		if h.OrderType != "I" || h.Currency != "142" || len(h.AppTime) != 14 {
			return "orderType须为I, currency须为142, appTime须为14位"
		}
		var amt [5]int64
		for i, v := range []string{h.GoodsValue, h.Freight, h.Discount, h.TaxTotal, h.ActuralPaid} {
			f, ok := customsFen(v)
			if !ok {
				return "金额格式错误: " + v
			}
			amt[i] = f
		}
		if amt[4] != amt[0]+amt[1]+amt[3]-amt[2] {
			return "实际支付金额(acturalPaid)须等于商品价格+运杂费+代扣税款-非现金抵扣金额"
		}
		if len(o.Lines) == 0 {
			return "表体OrderList不能为空"
		}
		var sum int64
		for _, l := range o.Lines {
			if l.GNum == "" || l.ItemName == "" || l.GModel == "" || len(l.Unit) != 3 || len(l.Country) != 3 || l.Currency != "142" {
				return "表体必填字段缺失"
			}
			t, ok := customsFen(l.TotalPrice)
			if !ok {
				return "表体金额格式错误: " + l.TotalPrice
			}
			sum += t
		}
		if sum != amt[0] {
			return "商品价格(goodsValue)须等于表体总价之和"
		}
	}
	return ""
}

func (c *customsState) declare(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody*16+1))
	if err != nil || len(body) > maxBody*16 {
		agentError(w, http.StatusRequestEntityTooLarge, "too_large", "报文过大")
		return
	}
	var m ceb311In
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&m); err != nil {
		agentError(w, http.StatusBadRequest, "bad_xml", "报文解析失败: "+err.Error())
		return
	}
	if msg := m.validate(); msg != "" {
		agentError(w, http.StatusBadRequest, "invalid_message", msg)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dup := false
	for _, o := range m.Orders {
		h := o.Head
		key := h.EBCCode + " " + h.OrderNo
		list := c.decls[key]
		if len(list) > 0 && list[len(list)-1].guid == h.GUID {
			dup = true
			continue
		}
		paid, _ := customsFen(h.ActuralPaid)
		d := &customsDecl{guid: h.GUID, ebpCode: h.EBPCode, ebcCode: h.EBCCode, orderNo: h.OrderNo, txn: h.PayTransactionID, paid: paid,
			at: c.now(), step: c.step, fault: c.fault[h.OrderNo]}
		delete(c.fault, h.OrderNo)
		c.decls[key] = append(list, d)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": true, "duplicate": dup, "guid": m.GUID})
}

type ceb312Out struct {
	XMLName xml.Name       `xml:"CEB312Message"`
	XMLNS   string         `xml:"xmlns,attr"`
	GUID    string         `xml:"guid,attr"`
	Version string         `xml:"version,attr"`
	Returns []orderReturnX `xml:"OrderReturn"`
}

type orderReturnX struct {
	GUID         string `xml:"guid"`
	EBPCode      string `xml:"ebpCode"`
	EBCCode      string `xml:"ebcCode"`
	OrderNo      string `xml:"orderNo"`
	ReturnStatus int    `xml:"returnStatus"`
	ReturnTime   string `xml:"returnTime"`
	ReturnInfo   string `xml:"returnInfo"`
}

// due lists the receipts of document doc of the declarations of an order
// that are due at now, oldest declaration first.
func (c *customsState) due(ebc, no, doc string, now time.Time) []agentReturn {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []agentReturn
	for _, d := range c.decls[ebc+" "+no] {
		f, faulty := d.fault[doc]
		of := d.fault["order"]
		if of.silent || (doc != "order" && of.status != 0) {
			continue // customs never accepted the order: no other document
		}
		guid := d.guid
		if doc != "order" {
			guid = agentDocGUID(d.guid, doc)
		}
		add := func(k int, status int, info string) {
			at := d.at.Add(time.Duration(k) * d.step)
			if !at.After(now) {
				out = append(out, agentReturn{guid: guid, d: d, status: status, at: at, info: info})
			}
		}
		switch doc {
		case "order":
			add(0, 2, "新增申报成功["+d.guid+"]")
			if faulty && f.status == 4 {
				add(1, 4, "发送海关失败: "+f.info)
				continue
			}
			add(1, 3, "发送海关成功")
			if faulty {
				add(2, f.status, "海关退单: "+f.info)
			} else {
				add(2, 120, "海关入库成功")
			}
		case "waybill":
			add(3, 2, "新增申报成功["+guid+"]")
			if faulty {
				add(4, f.status, "运单申报失败: "+f.info)
			} else {
				add(4, 120, "运单入库成功")
			}
		case "inventory":
			add(3, 2, "新增申报成功["+guid+"]")
			add(4, 120, "清单入库成功")
			if d.at.Add(5 * d.step).After(now) {
				continue
			}
			mismatch, wait := c.compare(d)
			switch {
			case wait:
			case faulty:
				add(5, f.status, "清单: "+f.info)
			case mismatch != "":
				add(5, 100, "三单对碰失败: "+mismatch)
			default:
				add(5, 800, "放行")
			}
		}
	}
	return out
}

type agentReturn struct {
	guid   string
	d      *customsDecl
	status int
	at     time.Time
	info   string
}

// agentDocGUID is the guid of the agent's message for document doc of the
// order declaration guid: stable, upper-case, 36 characters.
func agentDocGUID(guid, doc string) string {
	h := sha1.Sum([]byte(doc + ":" + guid))
	x := strings.ToUpper(hex.EncodeToString(h[:16]))
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func agentReturnTime(t time.Time) string {
	return strings.Replace(t.In(cst).Format("20060102150405.000"), ".", "", 1)
}

func agentMessageGUID(now time.Time) string {
	return strings.ToUpper(fmt.Sprintf("%08X-0000-4000-8000-%012X", now.Unix()&0xFFFFFFFF, now.UnixNano()&0xFFFFFFFFFFFF))
}

func agentXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}

func agentQuery(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	ebc, no := r.URL.Query().Get("ebcCode"), r.URL.Query().Get("orderNo")
	if ebc == "" || no == "" {
		agentError(w, http.StatusBadRequest, "invalid_query", "ebcCode and orderNo are required")
		return "", "", false
	}
	return ebc, no, true
}

func (c *customsState) receipts(w http.ResponseWriter, r *http.Request) {
	ebc, no, ok := agentQuery(w, r)
	if !ok {
		return
	}
	now := c.now()
	out := ceb312Out{XMLNS: "http://www.chinaport.gov.cn/ceb", Version: "1.0", GUID: agentMessageGUID(now)}
	for _, x := range c.due(ebc, no, "order", now) {
		out.Returns = append(out.Returns, orderReturnX{GUID: x.guid, EBPCode: x.d.ebpCode, EBCCode: x.d.ebcCode, OrderNo: x.d.orderNo,
			ReturnStatus: x.status, ReturnTime: agentReturnTime(x.at), ReturnInfo: x.info})
	}
	agentXML(w, out)
}

type ceb512Out struct {
	XMLName xml.Name           `xml:"CEB512Message"`
	XMLNS   string             `xml:"xmlns,attr"`
	GUID    string             `xml:"guid,attr"`
	Version string             `xml:"version,attr"`
	Returns []logisticsReturnX `xml:"LogisticsReturn"`
}

type logisticsReturnX struct {
	GUID          string `xml:"guid"`
	LogisticsCode string `xml:"logisticsCode"`
	LogisticsNo   string `xml:"logisticsNo"`
	ReturnStatus  int    `xml:"returnStatus"`
	ReturnTime    string `xml:"returnTime"`
	ReturnInfo    string `xml:"returnInfo"`
}

// The sandbox's logistics partner and agent.
const (
	sandboxLogisticsCode = "SBLOGISTIC"
	sandboxAgentCode     = "SBAGENT001"
	sandboxCustomsCode   = "2991"
)

// agentNo is a stable number of at most n characters for an order number.
func agentNo(prefix, orderNo string, n int) string {
	if len(prefix)+len(orderNo) <= n {
		return prefix + orderNo
	}
	h := sha1.Sum([]byte(orderNo))
	return (prefix + strings.ToUpper(hex.EncodeToString(h[:])))[:n]
}

func (c *customsState) waybillReceipts(w http.ResponseWriter, r *http.Request) {
	ebc, no, ok := agentQuery(w, r)
	if !ok {
		return
	}
	now := c.now()
	out := ceb512Out{XMLNS: "http://www.chinaport.gov.cn/ceb", Version: "1.0", GUID: agentMessageGUID(now)}
	for _, x := range c.due(ebc, no, "waybill", now) {
		out.Returns = append(out.Returns, logisticsReturnX{GUID: x.guid, LogisticsCode: sandboxLogisticsCode,
			LogisticsNo: agentNo("SB", no, 60), ReturnStatus: x.status, ReturnTime: agentReturnTime(x.at), ReturnInfo: x.info})
	}
	agentXML(w, out)
}

type ceb622Out struct {
	XMLName xml.Name           `xml:"CEB622Message"`
	XMLNS   string             `xml:"xmlns,attr"`
	GUID    string             `xml:"guid,attr"`
	Version string             `xml:"version,attr"`
	Returns []inventoryReturnX `xml:"InventoryReturn"`
}

type inventoryReturnX struct {
	GUID         string `xml:"guid"`
	CustomsCode  string `xml:"customsCode"`
	EBPCode      string `xml:"ebpCode"`
	EBCCode      string `xml:"ebcCode"`
	AgentCode    string `xml:"agentCode"`
	CopNo        string `xml:"copNo"`
	PreNo        string `xml:"preNo"`
	InvtNo       string `xml:"invtNo,omitempty"`
	ReturnStatus int    `xml:"returnStatus"`
	ReturnTime   string `xml:"returnTime"`
	ReturnInfo   string `xml:"returnInfo"`
}

func (c *customsState) inventoryReceipts(w http.ResponseWriter, r *http.Request) {
	ebc, no, ok := agentQuery(w, r)
	if !ok {
		return
	}
	now := c.now()
	out := ceb622Out{XMLNS: "http://www.chinaport.gov.cn/ceb", Version: "1.0", GUID: agentMessageGUID(now)}
	for _, x := range c.due(ebc, no, "inventory", now) {
		ir := inventoryReturnX{GUID: x.guid, CustomsCode: sandboxCustomsCode, EBPCode: x.d.ebpCode, EBCCode: x.d.ebcCode,
			AgentCode: sandboxAgentCode, CopNo: agentNo("", no, 20), PreNo: agentNo("B", x.guid, 18),
			ReturnStatus: x.status, ReturnTime: agentReturnTime(x.at), ReturnInfo: x.info}
		if x.status == 120 || x.status == 800 {
			ir.InvtNo = agentNo("I", x.guid, 18)
		}
		out.Returns = append(out.Returns, ir)
	}
	agentXML(w, out)
}

func (c *customsState) faults(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderNo      string `json:"order_no"`
		Document     string `json:"document"`
		ReturnStatus *int   `json:"return_status"`
		ReturnInfo   string `json:"return_info"`
		Silent       bool   `json:"silent"`
		StepMS       *int   `json:"step_ms"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil {
		writeControlError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	if in.StepMS == nil && in.OrderNo == "" {
		writeControlError(w, http.StatusBadRequest, "invalid_fault", "give order_no (to reject it) or step_ms")
		return
	}
	if in.StepMS != nil && (*in.StepMS < 0 || *in.StepMS > 600_000) {
		writeControlError(w, http.StatusBadRequest, "invalid_step", "step_ms must be 0 to 600000")
		return
	}
	f := docFault{status: 100, info: in.ReturnInfo, silent: in.Silent}
	if in.Document == "" {
		in.Document = "order"
	}
	if in.ReturnStatus != nil {
		f.status = *in.ReturnStatus
	}
	if in.OrderNo != "" {
		switch {
		case in.Document != "order" && in.Document != "waybill" && in.Document != "inventory":
			writeControlError(w, http.StatusBadRequest, "invalid_document", "document must be order, waybill or inventory")
			return
		case in.Silent && in.Document != "order":
			writeControlError(w, http.StatusBadRequest, "invalid_fault", "only the order declaration can go unanswered")
			return
		case f.status != 100 && f.status != 4 && !(in.Document == "inventory" && (f.status == 501 || f.status == 502)):
			writeControlError(w, http.StatusBadRequest, "invalid_status", "return_status must be 100 or 4 (501/502 for the inventory list)")
			return
		}
	}
	if f.info == "" {
		f.info = "订购人身份信息校验不通过"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.StepMS != nil {
		c.step = time.Duration(*in.StepMS) * time.Millisecond
	}
	if in.OrderNo != "" {
		if c.fault[in.OrderNo] == nil {
			c.fault[in.OrderNo] = map[string]docFault{}
		}
		c.fault[in.OrderNo][in.Document] = f
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}
