package wechat

// The Mini Program shipping-information service (发货信息管理服务): for a
// self-run shop's Mini Program, WeChat Pay keeps the buyer's money frozen
// until the shop uploads how the order shipped and the buyer confirms
// receipt. Calls take an access token (see Broker.Do, which retries once
// with a fresh token on 40001/42001).

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Logistics types and delivery modes of an upload.
const (
	LogisticsExpress = 1 // 物流配送
	DeliveryUnified  = 1 // UNIFIED_DELIVERY: everything in one parcel
	DeliverySplit    = 2 // SPLIT_DELIVERY: several parcels (express only)
	// MaxSplitParcels is the longest shipping_list of a split delivery.
	MaxSplitParcels = 15
)

// Shipping errcodes that callers act on.
const (
	ErrShipOrderNotFound = 10060001 // 支付单不存在: also right after the payment, before WeChat indexed it: retry later
	ErrShipAlreadyDone   = 10060002
	ErrShipReshipUsed    = 10060003 // the one re-ship is used up
	ErrShipNotShippable  = 10060004
	ErrShipNothingNew    = 10060023 // the upload changes nothing
)

// ShippingOrderKey names the payment: TransactionID (order_number_type 2),
// or MchID and OutTradeNo (type 1).
type ShippingOrderKey struct {
	OrderNumberType int    `json:"order_number_type"`
	TransactionID   string `json:"transaction_id,omitempty"`
	MchID           string `json:"mchid,omitempty"`
	OutTradeNo      string `json:"out_trade_no,omitempty"`
}

// ShippingContact holds masked phone numbers (SF Express requires one).
type ShippingContact struct {
	ConsignorContact string `json:"consignor_contact,omitempty"`
	ReceiverContact  string `json:"receiver_contact,omitempty"`
}

// ShippingItem is one parcel.
type ShippingItem struct {
	TrackingNo     string           `json:"tracking_no"`
	ExpressCompany string           `json:"express_company"` // delivery id from get_delivery_list, e.g. "SF"
	ItemDesc       string           `json:"item_desc"`       // at most 120 characters
	Contact        *ShippingContact `json:"contact,omitempty"`
}

// ShippingInfo is the body of upload_shipping_info.
type ShippingInfo struct {
	OrderKey       ShippingOrderKey `json:"order_key"`
	LogisticsType  int              `json:"logistics_type"`
	DeliveryMode   int              `json:"delivery_mode"`
	IsAllDelivered *bool            `json:"is_all_delivered,omitempty"` // required in split mode
	ShippingList   []ShippingItem   `json:"shipping_list"`
	UploadTime     string           `json:"upload_time"` // RFC 3339; must increase from one upload to the next
	Payer          struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

// UploadShippingInfo uploads how an order shipped. WeChat's refusals come
// back as *Error (see the ErrShip… codes); a failure to get an answer
// matches ErrUnavailable.
func (c *Client) UploadShippingInfo(ctx context.Context, token string, info ShippingInfo) error {
	var out struct{}
	return c.postToken(ctx, "upload_shipping_info", "/wxa/sec/order/upload_shipping_info", token, info, &out)
}

// ShippingOrder is WeChat's view of an order (get_order), trimmed to what
// Minishop reads. OrderState: 1 待发货, 2 已发货, 3 确认收货, 4 交易完成,
// 5 已退款, 6 资金待结算.
type ShippingOrder struct {
	TransactionID string `json:"transaction_id"`
	OpenID        string `json:"openid"`
	OrderState    int    `json:"order_state"`
	Shipping      struct {
		DeliveryMode        int  `json:"delivery_mode"`
		LogisticsType       int  `json:"logistics_type"`
		FinishShipping      bool `json:"finish_shipping"`
		FinishShippingCount int  `json:"finish_shipping_count"`
		ShippingList        []struct {
			TrackingNo     string `json:"tracking_no"`
			ExpressCompany string `json:"express_company"`
		} `json:"shipping_list"`
	} `json:"shipping"`
}

// ShippingOrderOf asks WeChat for its view of the order of a payment.
func (c *Client) ShippingOrderOf(ctx context.Context, token, transactionID string) (*ShippingOrder, error) {
	var out struct {
		Order ShippingOrder `json:"order"`
	}
	err := c.postToken(ctx, "get_order", "/wxa/sec/order/get_order", token, map[string]string{"transaction_id": transactionID}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Order, nil
}

// postToken posts body as JSON to path with the access token in the query.
func (c *Client) postToken(ctx context.Context, op, path, token string, body, out any) error {
	u, err := c.endpoint(op, path)
	if err != nil {
		return err
	}
	u.RawQuery = url.Values{"access_token": {token}}.Encode()
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return requestError(op, err, token)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, op, out, token)
}

// IsShippingRetryLater reports an upload refusal that may pass later:
// 10060001 (the payment is not indexed yet) and WeChat's system errors.
func IsShippingRetryLater(err error) bool {
	c, ok := code(err)
	return ok && (c == ErrShipOrderNotFound || c == -1 || c == 10060012 || c == 10060019)
}
