package sandbox

// The Mini Program shipping-information service (发货信息管理服务,
// wire-format reference §5): upload_shipping_info and get_order, with the
// access token of the app, WeChat's errcodes and its state machine:
// 1 待发货 → 2 已发货 once the delivery is complete (unified mode, or split
// mode with is_all_delivered), one re-ship allowed after that (10060003
// the next time), 10060023 for an upload that changes nothing.
//
// A transaction the WeChat Pay sandbox knows must be paid (else 10060004)
// and the payer's openid must match (10060031); a transaction it does not
// know (a test that reported a payment itself) is taken as paid.
//
// Control API:
//
//	POST /sandbox/v1/shipping/faults {"appid","errcode","count"}: the next
//	     count uploads of the app fail with errcode (e.g. 10060001, the
//	     order not indexed yet right after payment).
//	POST /sandbox/v1/shipping/order {"transaction_id"}: what the sandbox
//	     holds: state, uploads taken, calls made, the last shipping list.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"
	"unicode/utf8"
)

const apiUploadShipping = "upload_shipping_info"

type shipState struct {
	mu     sync.Mutex
	orders map[string]*shipOrder // transaction id, or "mchid/out_trade_no"
}

type shipOrder struct {
	appID, key     string
	state          int // 1 待发货, 2 已发货, 3 确认收货
	mode, ltype    int
	finished       bool
	uploads        int // uploads taken
	full           int // uploads that completed the delivery
	calls          int // every call, refused ones too
	list           []shipItem
	lastUploadTime time.Time
	openID         string
}

type shipItem struct {
	TrackingNo     string `json:"tracking_no"`
	ExpressCompany string `json:"express_company"`
	ItemDesc       string `json:"item_desc"`
	Contact        *struct {
		ConsignorContact string `json:"consignor_contact,omitempty"`
		ReceiverContact  string `json:"receiver_contact,omitempty"`
	} `json:"contact,omitempty"`
}

type shipUpload struct {
	OrderKey struct {
		OrderNumberType int    `json:"order_number_type"`
		TransactionID   string `json:"transaction_id"`
		MchID           string `json:"mchid"`
		OutTradeNo      string `json:"out_trade_no"`
	} `json:"order_key"`
	LogisticsType  int        `json:"logistics_type"`
	DeliveryMode   int        `json:"delivery_mode"`
	IsAllDelivered *bool      `json:"is_all_delivered"`
	ShippingList   []shipItem `json:"shipping_list"`
	UploadTime     string     `json:"upload_time"`
	Payer          struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

func (s *Server) mountShipping(mux *http.ServeMux, control map[string]http.HandlerFunc) {
	st := &shipState{orders: map[string]*shipOrder{}}
	mux.HandleFunc("/wxa/sec/order/upload_shipping_info", func(w http.ResponseWriter, r *http.Request) { s.uploadShipping(st, w, r) })
	mux.HandleFunc("/wxa/sec/order/get_order", func(w http.ResponseWriter, r *http.Request) { s.getShippingOrder(st, w, r) })
	control["/sandbox/v1/shipping/faults"] = s.controlShippingFaults
	control["/sandbox/v1/shipping/order"] = func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			TransactionID string `json:"transaction_id"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		o := st.orders[req.TransactionID]
		if o == nil {
			writeControlError(w, http.StatusNotFound, "not_found", "no shipping information was uploaded for this transaction")
			return
		}
		writeJSON(w, ctJSON, http.StatusOK, map[string]any{"state": o.state, "uploads": o.uploads, "full_uploads": o.full, "calls": o.calls,
			"delivery_mode": o.mode, "finished": o.finished, "shipping_list": o.list})
	}
}

// shipAuth checks the method and access_token; it writes WeChat's error and
// returns "" when they are wrong.
func (s *Server) shipAuth(w http.ResponseWriter, r *http.Request, api string) string {
	if r.Method != http.MethodPost {
		s.wxError(w, ctCGIBin, api, "", 43002)
		return ""
	}
	appID, code := s.CheckAccessToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		s.wxError(w, ctCGIBin, api, "", code)
		return ""
	}
	return appID
}

func (s *Server) uploadShipping(st *shipState, w http.ResponseWriter, r *http.Request) {
	appID := s.shipAuth(w, r, apiUploadShipping)
	if appID == "" {
		return
	}
	var u shipUpload
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&u); err != nil {
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 47001)
		return
	}
	key := u.OrderKey.TransactionID
	if u.OrderKey.OrderNumberType == 1 {
		key = u.OrderKey.MchID + "/" + u.OrderKey.OutTradeNo
	}
	s.mu.Lock()
	fault := s.app(appID).takeFault(apiUploadShipping)
	s.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orders[key]
	if o == nil {
		o = &shipOrder{appID: appID, key: key, state: 1}
		st.orders[key] = o
	}
	o.calls++
	if fault != 0 {
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, fault)
		return
	}
	if code := s.checkUpload(&u); code != 0 {
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, code)
		return
	}
	if o.openID == "" {
		o.openID = u.Payer.OpenID
	}
	at, _ := time.Parse(time.RFC3339, u.UploadTime)
	switch {
	case o.appID != appID:
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 10060001)
		return
	case o.openID != u.Payer.OpenID:
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 10060031)
		return
	case o.state >= 3:
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 10060004)
		return
	case !o.lastUploadTime.IsZero() && !at.After(o.lastUploadTime):
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 268485216)
		return
	case o.finished && o.mode == u.DeliveryMode && reflect.DeepEqual(o.list, u.ShippingList):
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 10060023)
		return
	case o.finished && o.full >= 2:
		s.wxError(w, ctCGIBin, apiUploadShipping, appID, 10060003)
		return
	}
	complete := u.DeliveryMode == 1 || *u.IsAllDelivered
	o.mode, o.ltype, o.list, o.lastUploadTime = u.DeliveryMode, u.LogisticsType, u.ShippingList, at
	o.uploads++
	if complete {
		o.finished = true
		o.full++
		o.state = 2
	}
	writeJSON(w, ctCGIBin, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// checkUpload validates an upload as WeChat does, and the payment behind
// it when the WeChat Pay sandbox knows it; it returns the errcode or 0.
func (s *Server) checkUpload(u *shipUpload) int {
	k := u.OrderKey
	switch {
	case k.OrderNumberType != 1 && k.OrderNumberType != 2:
		return 268485194
	case k.OrderNumberType == 2 && k.TransactionID == "":
		return 268485195
	case k.OrderNumberType == 1 && k.MchID == "":
		return 268485196
	case k.OrderNumberType == 1 && k.OutTradeNo == "":
		return 268485197
	case u.LogisticsType < 1 || u.LogisticsType > 4:
		return 10060005
	case u.DeliveryMode != 1 && u.DeliveryMode != 2:
		return 268485224
	case u.DeliveryMode == 2 && u.LogisticsType != 1:
		return 10060006
	case u.DeliveryMode == 2 && u.IsAllDelivered == nil:
		return 10060007
	case u.DeliveryMode == 1 && len(u.ShippingList) != 1:
		return 268485228
	case len(u.ShippingList) > 15:
		return 10060024
	case u.Payer.OpenID == "":
		return 10060014
	}
	if _, err := time.Parse(time.RFC3339, u.UploadTime); err != nil {
		return 268485216
	}
	for _, it := range u.ShippingList {
		switch {
		case u.LogisticsType == 1 && it.TrackingNo == "":
			return 268485226
		case u.LogisticsType == 1 && it.ExpressCompany == "":
			return 268485227
		case it.ItemDesc == "":
			return 10060008
		case utf8.RuneCountInString(it.ItemDesc) > 120:
			return 10060009
		case len(it.TrackingNo) > 128:
			return 10060026
		case len(it.ExpressCompany) > 128:
			return 10060025
		case it.ExpressCompany == "SF" && (it.Contact == nil || it.Contact.ConsignorContact == "" && it.Contact.ReceiverContact == ""):
			return 10060014
		}
	}
	if k.OrderNumberType == 2 {
		s.pay.mu.Lock()
		defer s.pay.mu.Unlock()
		if p := s.pay.txns[k.TransactionID]; p != nil {
			if p.state != "SUCCESS" && p.state != "REFUND" {
				return 10060004
			}
			if u.Payer.OpenID != p.openID && u.Payer.OpenID != p.subOpenID && u.Payer.OpenID != p.spOpenID {
				return 10060031
			}
		}
	}
	return 0
}

func (s *Server) getShippingOrder(st *shipState, w http.ResponseWriter, r *http.Request) {
	appID := s.shipAuth(w, r, "get_order")
	if appID == "" {
		return
	}
	var req struct {
		TransactionID   string `json:"transaction_id"`
		MerchantID      string `json:"merchant_id"`
		MerchantTradeNo string `json:"merchant_trade_no"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		s.wxError(w, ctCGIBin, "get_order", appID, 47001)
		return
	}
	key := req.TransactionID
	if key == "" {
		key = req.MerchantID + "/" + req.MerchantTradeNo
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orders[key]
	if o == nil || o.appID != appID || o.uploads == 0 {
		s.wxError(w, ctCGIBin, "get_order", appID, 10060001)
		return
	}
	list := make([]map[string]any, 0, len(o.list))
	for _, it := range o.list {
		list = append(list, map[string]any{"tracking_no": it.TrackingNo, "express_company": it.ExpressCompany, "goods_desc": it.ItemDesc,
			"upload_time": o.lastUploadTime.Unix()})
	}
	writeJSON(w, ctCGIBin, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "order": map[string]any{
		"transaction_id": req.TransactionID, "merchant_trade_no": req.MerchantTradeNo, "openid": o.openID, "order_state": o.state,
		"in_complaint": false, "shipping": map[string]any{"delivery_mode": o.mode, "logistics_type": o.ltype, "finish_shipping": o.finished,
			"finish_shipping_count": o.full, "shipping_list": list}}})
}

func (s *Server) controlShippingFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID   string `json:"appid"`
		ErrCode int    `json:"errcode"`
		Count   int    `json:"count"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Count == 0 {
		req.Count = 1
	}
	if !validAppID(req.AppID) || req.ErrCode == 0 || req.Count < 1 || req.Count > maxFaultsQueued {
		writeControlError(w, http.StatusBadRequest, "invalid", fmt.Sprintf(`send "appid", a non-zero "errcode" and a "count" from 1 to %d`, maxFaultsQueued))
		return
	}
	s.mu.Lock()
	a := s.app(req.AppID)
	a.faults[apiUploadShipping] = append(a.faults[apiUploadShipping], fault{errcode: req.ErrCode, left: req.Count})
	s.mu.Unlock()
	writeJSON(w, ctJSON, http.StatusOK, map[string]any{"appid": req.AppID, "errcode": req.ErrCode, "count": req.Count})
}
