package sandbox

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// replayVariants are the ways POST /sandbox/v1/pay/notify-replay can send
// a notification again: genuine (freshly signed, as WeChat Pay's own
// retries), forged (signed by a key that is not WeChat Pay's), unknown_serial
// (genuine signature, a serial the merchant does not know), stale (genuine
// signature over a timestamp ten minutes old), tampered (body altered after
// signing), probe (a WECHATPAY/SIGNTEST/ signature).
var replayVariants = map[string]bool{"genuine": true, "forged": true, "unknown_serial": true, "stale": true, "tampered": true, "probe": true}

// controlNotifyReplay serves POST /sandbox/v1/pay/notify-replay:
// {"mchid","out_trade_no","out_refund_no"?,"variant","count","parallel"}
// sends the last notification made for the order (or refund) count times
// (at most 50), one after the other or all at once, and answers
// {"statuses":[…]} with the merchant's answers in the order sent (0 when
// the request failed). It records nothing: the notification's own delivery
// is unaffected.
func (s *Server) controlNotifyReplay(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID       string `json:"mchid"`
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		Variant     string `json:"variant"`
		Count       int    `json:"count"`
		Parallel    bool   `json:"parallel"`
	}
	if !decodeControl(w, r, &req) || !s.mchOf(w, req.MchID) {
		return
	}
	if req.Variant == "" {
		req.Variant = "genuine"
	}
	if req.Count == 0 {
		req.Count = 1
	}
	switch {
	case !replayVariants[req.Variant]:
		writeControlError(w, http.StatusBadRequest, "invalid", `"variant" must be genuine, forged, unknown_serial, stale, tampered or probe`)
		return
	case req.Count < 1 || req.Count > 50:
		writeControlError(w, http.StatusBadRequest, "invalid", `"count" must be between 1 and 50`)
		return
	}
	p := s.pay
	p.mu.Lock()
	var d *delivery
	for _, x := range p.deliveries[req.MchID] {
		if x.Kind == "notification" && x.OutTradeNo == req.OutTradeNo && x.OutRefundNo == req.OutRefundNo {
			d = x
		}
	}
	p.mu.Unlock()
	if d == nil {
		writeControlError(w, http.StatusNotFound, "notification_not_found", "no notification was made for this out_trade_no (and out_refund_no)")
		return
	}
	statuses := make([]int, req.Count)
	send := func(i int) { statuses[i] = s.replay(d, req.Variant) }
	if req.Parallel {
		var wg sync.WaitGroup
		for i := range req.Count {
			wg.Add(1)
			go func() { defer wg.Done(); send(i) }()
		}
		wg.Wait()
	} else {
		for i := range req.Count {
			send(i)
		}
	}
	writeJSON(w, ctJSON, http.StatusOK, map[string][]int{"statuses": statuses})
}

// replay posts d once as variant and returns the status (0 on failure).
func (s *Server) replay(d *delivery, variant string) int {
	body := d.body
	now := s.now()
	if variant == "stale" {
		now = now.Add(-10 * time.Minute)
	}
	h := s.paySignature(d.mchID, "", now, body)
	switch variant {
	case "forged":
		s.pay.forgerOnce.Do(func() { s.pay.forger = deriveRSA(s.seed, "sandbox-forger") })
		sum := sha256.Sum256([]byte(h["Wechatpay-Timestamp"] + "\n" + h["Wechatpay-Nonce"] + "\n" + string(body) + "\n"))
		sig, _ := rsa.SignPKCS1v15(nil, s.pay.forger, crypto.SHA256, sum[:])
		h["Wechatpay-Signature"] = base64.StdEncoding.EncodeToString(sig)
	case "unknown_serial":
		h["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A72" + strconv.Itoa(10000000 + int(now.UnixNano()%89999999))[:8]
	case "tampered":
		body = bytes.Replace(body, []byte(`"summary":"`), []byte(`"summary":"(altered) `), 1)
	case "probe":
		h["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + base64.StdEncoding.EncodeToString([]byte(randomString(alnum, 64)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	req.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
	resp, err := s.pay.http.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode
}
