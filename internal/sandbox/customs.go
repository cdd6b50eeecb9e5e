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
//	GET  /customs-agent/v1/ceb312?ebcCode=&orderNo=   the receipts due so far, as a CEB312Message
//	POST /sandbox/v1/customs/faults          {"order_no","return_info"}: customs rejects (100) that order's next declaration;
//	                                         {"step_ms"}: time between receipts (default 1000)
//
// Each accepted declaration gets its receipts over time: 2 (e-port
// received) at once, 3 (sent to customs) one step later, then 120
// (accepted) or 100 (rejected, with the reason) a step after that. The same
// message (same guid) posted again is acknowledged as a duplicate and
// changes nothing.

import (
	"bytes"
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
	mu    sync.Mutex
	step  time.Duration
	decls map[string][]*customsDecl // ebcCode+" "+orderNo -> declarations, oldest first
	rejct map[string]string         // orderNo -> reason of the next rejection
}

type customsDecl struct {
	guid, ebpCode, ebcCode, orderNo string
	at                              time.Time
	step                            time.Duration
	reject                          string // non-empty: customs rejects with this reason
}

func (s *Server) mountCustoms(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	c := &customsState{now: s.now, step: customsDefaultStep, decls: map[string][]*customsDecl{}, rejct: map[string]string{}}
	mux.HandleFunc("POST /customs-agent/v1/ceb311", c.declare)
	mux.HandleFunc("GET /customs-agent/v1/ceb312", c.receipts)
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
		d := &customsDecl{guid: h.GUID, ebpCode: h.EBPCode, ebcCode: h.EBCCode, orderNo: h.OrderNo, at: c.now(), step: c.step}
		if reason, ok := c.rejct[h.OrderNo]; ok {
			d.reject = reason
			delete(c.rejct, h.OrderNo)
		}
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

func (c *customsState) receipts(w http.ResponseWriter, r *http.Request) {
	ebc, no := r.URL.Query().Get("ebcCode"), r.URL.Query().Get("orderNo")
	if ebc == "" || no == "" {
		agentError(w, http.StatusBadRequest, "invalid_query", "ebcCode and orderNo are required")
		return
	}
	now := c.now()
	c.mu.Lock()
	out := ceb312Out{XMLNS: "http://www.chinaport.gov.cn/ceb", Version: "1.0"}
	for _, d := range c.decls[ebc+" "+no] {
		add := func(k int, status int, info string) {
			at := d.at.Add(time.Duration(k) * d.step)
			if at.After(now) {
				return
			}
			out.Returns = append(out.Returns, orderReturnX{GUID: d.guid, EBPCode: d.ebpCode, EBCCode: d.ebcCode, OrderNo: d.orderNo,
				ReturnStatus: status, ReturnTime: at.In(cst).Format("20060102150405.000"), ReturnInfo: info})
		}
		add(0, 2, "新增申报成功["+d.guid+"]")
		add(1, 3, "发送海关成功")
		if d.reject != "" {
			add(2, 100, "海关退单: "+d.reject)
		} else {
			add(2, 120, "海关入库成功")
		}
	}
	c.mu.Unlock()
	for i := range out.Returns {
		out.Returns[i].ReturnTime = strings.Replace(out.Returns[i].ReturnTime, ".", "", 1)
	}
	out.GUID = strings.ToUpper(fmt.Sprintf("%08X-0000-4000-8000-%012X", now.Unix()&0xFFFFFFFF, now.UnixNano()&0xFFFFFFFFFFFF))
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(out)
}

func (c *customsState) faults(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OrderNo    string `json:"order_no"`
		ReturnInfo string `json:"return_info"`
		StepMS     *int   `json:"step_ms"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil {
		writeControlError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.StepMS != nil {
		if *in.StepMS < 0 || *in.StepMS > 600_000 {
			writeControlError(w, http.StatusBadRequest, "invalid_step", "step_ms must be 0 to 600000")
			return
		}
		c.step = time.Duration(*in.StepMS) * time.Millisecond
	}
	if in.OrderNo != "" {
		if in.ReturnInfo == "" {
			in.ReturnInfo = "订购人身份信息校验不通过"
		}
		c.rejct[in.OrderNo] = in.ReturnInfo
	}
	if in.StepMS == nil && in.OrderNo == "" {
		writeControlError(w, http.StatusBadRequest, "invalid_fault", "give order_no (to reject it) or step_ms")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}
