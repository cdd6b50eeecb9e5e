package wechatpay

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sealForTest encrypts with crypto/cipher directly, independently of
// Encrypt, as WeChat Pay does.
func sealForTest(t testing.TB, key, nonce, ad string, plain []byte) string {
	t.Helper()
	b, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cipher.NewGCM(b)
	return base64.StdEncoding.EncodeToString(g.Seal(nil, []byte(nonce), plain, []byte(ad)))
}

func envelope(t testing.TB, event, originalType, ad, key string, plain []byte) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{
		"id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00", "resource_type": "encrypt-resource",
		"event_type": event, "summary": "支付成功",
		"resource": map[string]string{"original_type": originalType, "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": sealForTest(t, key, "fdasflkja484", ad, plain), "associated_data": ad, "nonce": "fdasflkja484"},
	})
	return b
}

const txnPlain = `{"appid":"wx0123456789abcdef","mchid":"1900000001","out_trade_no":"ORDER_123456","transaction_id":"4200000914202101195554393855","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"","success_time":"2021-01-19T15:43:01+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}`
const refundPlain = `{"mchid":"1900000001","out_trade_no":"ORDER_123456","transaction_id":"4200000914202101195554393855","refund_id":"50200207182018070300011301001","out_refund_no":"R1","refund_status":"SUCCESS","success_time":"2018-06-08T10:34:56+08:00","user_received_account":"招商银行信用卡0403"}`

func TestParseNotification(t *testing.T) {
	testKeys(t)
	now := time.Now()
	good := envelope(t, EventTransactionSuccess, "transaction", "transaction", testAPIv3Key, []byte(txnPlain))
	tests := []struct {
		name      string
		body      []byte
		header    func(body []byte) http.Header
		wantErr   error
		wantTxn   bool
		wantRefnd bool
	}{
		{"transaction", good, func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, nil, true, false},
		{"transaction, public key", good, func(b []byte) http.Header { return signHeaders(t, pubKey, testPubKeyID, now, b) }, nil, true, false},
		{"empty associated data", envelope(t, EventTransactionSuccess, "transaction", "", testAPIv3Key, []byte(txnPlain)),
			func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, nil, true, false},
		{"refund without amount", envelope(t, EventRefundSuccess, "refund", "refund", testAPIv3Key, []byte(refundPlain)),
			func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, nil, false, true},
		{"tampered body", []byte(strings.Replace(string(good), "支付成功", "支付失败", 1)),
			func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, good) }, ErrInvalidSignature, false, false},
		{"unknown serial", good, func(b []byte) http.Header {
			return signHeaders(t, platKey, "ABCDEF0123ABCDEF0123ABCDEF0123ABCDEF0123", now, b)
		}, ErrInvalidSignature, false, false},
		{"old", good, func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now.Add(-10*time.Minute), b) }, ErrInvalidSignature, false, false},
		{"probe", good, func(b []byte) http.Header {
			h := signHeaders(t, platKey, platSerial, now, b)
			h.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/aGVsbG8=")
			return h
		}, ErrInvalidSignature, false, false},
		{"stripped headers", good, func(b []byte) http.Header { return http.Header{"Content-Type": {"application/json"}} }, ErrInvalidSignature, false, false},
		{"other APIv3 key", envelope(t, EventTransactionSuccess, "transaction", "transaction", "ZZZZZZZZZZabcdefABCDEF0123456789", []byte(txnPlain)),
			func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, ErrMalformedNotification, false, false},
		{"associated data changed", []byte(strings.Replace(string(good), `"associated_data":"transaction"`, `"associated_data":"refund"`, 1)),
			func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, ErrMalformedNotification, false, false},
		{"signed, not JSON", []byte("hello"), func(b []byte) http.Header { return signHeaders(t, platKey, platSerial, now, b) }, ErrMalformedNotification, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(t, "http://127.0.0.1:1", true, true)
			n, err := c.ParseNotification(tc.header(tc.body), tc.body)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || n != nil {
					t.Fatalf("= %v, %v; want %v", n, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (n.Transaction != nil) != tc.wantTxn || (n.Refund != nil) != tc.wantRefnd {
				t.Fatalf("notification = %+v", n)
			}
			if n.Transaction != nil {
				tx := n.Transaction
				if tx.OutTradeNo != "ORDER_123456" || tx.TradeState != StateSuccess || tx.Amount.Total != 100 || tx.Payer.OpenID != "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" || !tx.Paid() {
					t.Errorf("transaction = %+v", tx)
				}
			}
			if n.Refund != nil && (n.Refund.OutRefundNo != "R1" || n.Refund.RefundStatus != RefundSuccess || n.Refund.Amount != nil) {
				t.Errorf("refund = %+v", n.Refund)
			}
		})
	}
}

func TestEncryptDecrypt(t *testing.T) {
	r, err := Encrypt([]byte(testAPIv3Key), "eabb3e044577", "certificate", []byte("pem"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Ciphertext != sealForTest(t, testAPIv3Key, "eabb3e044577", "certificate", []byte("pem")) {
		t.Error("Encrypt differs from AES-256-GCM with the ASCII nonce and associated data")
	}
	if pt, err := Decrypt([]byte(testAPIv3Key), r); err != nil || string(pt) != "pem" {
		t.Errorf("Decrypt = %q, %v", pt, err)
	}
	r.AssociatedData = ""
	if _, err := Decrypt([]byte(testAPIv3Key), r); err == nil {
		t.Error("Decrypt ignored the associated data")
	}
}

// FuzzParseNotification feeds arbitrary headers and bodies to
// ParseNotification, and arbitrary bodies and resource plaintexts to the
// part that runs once the signature has checked (signing each input with
// RSA would make fuzzing crawl). It must never panic and must accept
// nothing unsigned.
func FuzzParseNotification(f *testing.F) {
	testKeys(f)
	signed := envelope(f, EventTransactionSuccess, "transaction", "transaction", testAPIv3Key, []byte(txnPlain))
	h := signHeaders(f, platKey, platSerial, time.Now(), signed)
	f.Add(signed, []byte(txnPlain), h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Timestamp"), platSerial)
	f.Add([]byte(`{"id":"EV-1","event_type":"REFUND.SUCCESS","resource_type":"encrypt-resource","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":""}}`), []byte(refundPlain), "x", "1", testPubKeyID)
	f.Add([]byte(`null`), []byte(`{"out_trade_no":""}`), "WECHATPAY/SIGNTEST/", "-1", "")
	f.Add([]byte("\xff\xfe"), []byte(`[]`), "", "99999999999999999999", "PUB_KEY_ID_")
	c := testClient(f, "http://127.0.0.1:1", true, true)
	f.Fuzz(func(t *testing.T, body, plain []byte, sig, ts, serial string) {
		hdr := http.Header{"Wechatpay-Serial": {serial}, "Wechatpay-Signature": {sig}, "Wechatpay-Timestamp": {ts}, "Wechatpay-Nonce": {"n"}}
		if n, err := c.ParseNotification(hdr, body); err == nil || n != nil {
			// The nonce "n" was never signed: nothing can verify.
			t.Fatalf("accepted a forged notification: %q", body)
		}
		if n, err := c.open(body); err == nil && n.Transaction == nil && n.Refund == nil {
			t.Fatal("opened without a resource")
		}
		for _, event := range []string{EventTransactionSuccess, EventRefundSuccess, "OTHER"} {
			env := envelope(t, event, "transaction", "transaction", testAPIv3Key, plain)
			n, err := c.open(env)
			if err != nil && !errors.Is(err, ErrMalformedNotification) {
				t.Fatalf("open: %v", err)
			}
			if err == nil && n.Transaction == nil && n.Refund == nil {
				t.Fatal("opened without a resource")
			}
		}
	})
}
