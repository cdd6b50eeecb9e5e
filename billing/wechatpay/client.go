package wechatpay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// call is one API request: op names it in errors, path is the escaped
// path and query under the base URL, in is the JSON body (nil for none) and
// out receives a 2xx JSON answer (nil to ignore it).
type call struct {
	op, method, path string
	in, out          any
	noVerify         bool // only for the certificate bootstrap, verified after decryption
}

// reply is what do returns of a verified 2xx answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do signs and sends a request and checks the answer. A 2xx answer must be
// signed by WeChat Pay; a non-2xx answer is turned into an *APIError (or
// ErrUnavailable when it is not WeChat Pay's JSON).
func (c *Client) do(ctx context.Context, k call) (*reply, error) {
	var body []byte
	if k.in != nil {
		var err error
		if body, err = json.Marshal(k.in); err != nil {
			return nil, configError("%s: encoding the request: %v", k.op, err)
		}
	}
	if !k.noVerify && c.verifier.empty() {
		return nil, configError("%s: no platform certificate or WeChat Pay public key to verify answers with; call DownloadCertificates or configure them", k.op)
	}
	requestURI := c.base.EscapedPath() + k.path
	auth, err := c.authorization(k.method, requestURI, body, c.now())
	if err != nil {
		return nil, configError("%s: signing: %v", k.op, err)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.base.Scheme+"://"+c.base.Host+requestURI, bytes.NewReader(body))
	if err != nil {
		return nil, configError("%s: %v", k.op, err)
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s := c.verifier.acceptSerial(); s != "" {
		req.Header.Set(HeaderSerial, s)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unavailable(k.op, "request failed", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxReply+1))
	if err != nil {
		return nil, unavailable(k.op, "reading the answer", err)
	}
	if int64(len(raw)) > c.maxReply {
		return nil, unavailable(k.op, "the answer is larger than expected", nil)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, apiError(k.op, resp, raw)
	}
	if !k.noVerify {
		if err := c.verifier.verify(c.now(), resp.Header, raw); err != nil {
			return nil, err
		}
	}
	if k.out != nil {
		if len(raw) == 0 || json.Unmarshal(raw, k.out) != nil {
			return nil, unavailable(k.op, "the answer is not the expected JSON", nil)
		}
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// apiError reads WeChat Pay's error body. A body that is not its JSON
// means something else answered (a proxy, a load balancer): unavailable.
func apiError(op string, resp *http.Response, raw []byte) error {
	var e struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Code == "" {
		reason := "HTTP " + resp.Status
		if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
			reason += " (" + ct + ")"
		}
		return unavailable(op, reason, nil)
	}
	return &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Message, Detail: e.Detail, RequestID: resp.Header.Get(HeaderRequestID)}
}
