package wechatpay

import (
	"testing"
	"time"
)

// BenchmarkSignRequest measures building the Authorization header of a
// request (one RSA-2048 signature).
func BenchmarkSignRequest(b *testing.B) {
	c := testClient(b, "http://127.0.0.1:1", true, false)
	body := []byte(`{"appid":"wx0123456789abcdef","mchid":"1900000001","description":"tea","out_trade_no":"ORDER_123456","notify_url":"https://a.example/n","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}`)
	now := time.Now()
	for b.Loop() {
		if _, err := c.authorization("POST", "/v3/pay/transactions/jsapi", body, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseNotification measures verifying (RSA-2048) and decrypting
// (AES-256-GCM) a payment notification.
func BenchmarkParseNotification(b *testing.B) {
	c := testClient(b, "http://127.0.0.1:1", true, false)
	body := envelope(b, EventTransactionSuccess, "transaction", "transaction", testAPIv3Key, []byte(txnPlain))
	h := signHeaders(b, platKey, platSerial, time.Now(), body)
	for b.Loop() {
		if _, err := c.ParseNotification(h, body); err != nil {
			b.Fatal(err)
		}
	}
}
