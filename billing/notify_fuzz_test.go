package billing_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/shop"
)

// FuzzHandleNotification feeds the gateway's notification entry point
// genuinely signed and encrypted notifications around arbitrary resources,
// and arbitrary unsigned bodies. It must never panic, never record anything
// from an unsigned body, answer only 204, 400 or 500 to a signed one, and
// record a payment only for this merchant with the resource's own fields.
func FuzzHandleNotification(f *testing.F) {
	plat, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	mch, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	const keyID = "PUB_KEY_ID_0112345678"
	c, err := wechatpay.New(wechatpay.Config{BaseURL: "http://127.0.0.1:1", Mode: wechatpay.ModeDirect, MchID: "1900000109", AppID: "wx1234567890abcdef",
		SerialNo: "3775B6A45ACD588826D15E583A95F5DD2B8B7F4D", PrivateKey: mch, APIv3Key: key, PublicKeyID: keyID, PublicKey: &plat.PublicKey})
	if err != nil {
		f.Fatal(err)
	}
	var paid []string
	g := &billing.Gateway{
		Client: func(context.Context) (*wechatpay.Client, error) { return c, nil },
		Paid: func(_ context.Context, _ int64, outTradeNo, txn string, amount int64, _ time.Time) error {
			paid = append(paid, outTradeNo+"/"+txn+"/"+strconv.FormatInt(amount, 10))
			return nil
		},
		Refunded: func(context.Context, int64, shop.RefundOutcome) error { return nil },
	}
	sign := func(body []byte) http.Header {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sum := sha256.Sum256([]byte(ts + "\nnonce123\n" + string(body) + "\n"))
		sig, _ := rsa.SignPKCS1v15(nil, plat, crypto.SHA256, sum[:])
		return http.Header{"Wechatpay-Serial": {keyID}, "Wechatpay-Signature": {base64.StdEncoding.EncodeToString(sig)},
			"Wechatpay-Timestamp": {ts}, "Wechatpay-Nonce": {"nonce123"}}
	}
	f.Add([]byte(`{"mchid":"1900000109","out_trade_no":"T1","transaction_id":"4200","trade_state":"SUCCESS","amount":{"total":100}}`), "TRANSACTION.SUCCESS")
	f.Add([]byte(`{"mchid":"1900000999","out_trade_no":"T1","transaction_id":"4200","trade_state":"SUCCESS","amount":{"total":100}}`), "TRANSACTION.SUCCESS")
	f.Add([]byte(`{"mchid":"1900000109","out_trade_no":"T1","out_refund_no":"R1","refund_status":"SUCCESS"}`), "REFUND.SUCCESS")
	f.Add([]byte(`{}`), "X")
	f.Fuzz(func(t *testing.T, plain []byte, event string) {
		paid = paid[:0]
		res, err := wechatpay.Encrypt(key, "abcdefghijkl", "transaction", plain)
		if err != nil {
			t.Skip()
		}
		body, _ := json.Marshal(map[string]any{"id": "EV-1", "create_time": "2026-01-01T00:00:00+08:00", "resource_type": "encrypt-resource",
			"event_type": event, "summary": "s", "resource": res})
		// Unsigned (the plaintext as a body, then the genuine body with a stale signature header set): refused, nothing recorded.
		for _, b := range [][]byte{plain, body} {
			if st, _ := g.HandleNotification(context.Background(), 1, http.Header{"Wechatpay-Serial": {keyID}, "Wechatpay-Signature": {"AAAA"},
				"Wechatpay-Timestamp": {"1"}, "Wechatpay-Nonce": {"n"}}, b); st != http.StatusUnauthorized || len(paid) > 0 {
				t.Fatalf("unsigned body answered %d, recorded %v", st, paid)
			}
		}
		st, _ := g.HandleNotification(context.Background(), 1, sign(body), body)
		if st != http.StatusNoContent && st != http.StatusBadRequest && st != http.StatusInternalServerError {
			t.Fatalf("signed notification answered %d", st)
		}
		if len(paid) > 0 {
			var tx wechatpay.Transaction
			if json.Unmarshal(plain, &tx) != nil || tx.MchID != "1900000109" || tx.TradeState != wechatpay.StateSuccess ||
				paid[0] != tx.OutTradeNo+"/"+tx.TransactionID+"/"+strconv.FormatInt(tx.Amount.Total, 10) {
				t.Fatalf("recorded %v from %s", paid, plain)
			}
		}
	})
}
