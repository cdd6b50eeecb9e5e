package wechatpay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// nonce returns 32 random characters of [0-9A-Za-z].
func nonce() string {
	const n = 32
	out := make([]byte, 0, n)
	buf := make([]byte, 48)
	// 248 = 4*62: rejection sampling keeps the draw uniform.
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, nonceAlphabet[int(b)%62])
			}
		}
	}
	return string(out)
}

// signSHA256 returns base64(RSASSA-PKCS1-v1_5(SHA-256(msg))).
func signSHA256(key *rsa.PrivateKey, msg []byte) (string, error) {
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// RequestMessage is the message a request signature covers:
// METHOD\nRequestURI\ntimestamp\nnonce\nbody\n, where RequestURI is the
// escaped path and query exactly as sent (no host) and body is empty for
// GET. Exported so that servers (such as internal/sandbox) verify exactly
// what clients sign.
func RequestMessage(method, requestURI, timestamp, nonce string, body []byte) []byte {
	m := make([]byte, 0, len(method)+len(requestURI)+len(timestamp)+len(nonce)+len(body)+5)
	m = append(m, method...)
	m = append(m, '\n')
	m = append(m, requestURI...)
	m = append(m, '\n')
	m = append(m, timestamp...)
	m = append(m, '\n')
	m = append(m, nonce...)
	m = append(m, '\n')
	m = append(m, body...)
	return append(m, '\n')
}

// authorization builds the Authorization header of a request.
func (c *Client) authorization(method, requestURI string, body []byte, now time.Time) (string, error) {
	ts := strconv.FormatInt(now.Unix(), 10)
	n := nonce()
	sig, err := signSHA256(c.key, RequestMessage(method, requestURI, ts, n, body))
	if err != nil {
		return "", err
	}
	return SignatureAlgorithm + ` mchid="` + c.mchID + `",nonce_str="` + n + `",timestamp="` + ts +
		`",serial_no="` + c.serialNo + `",signature="` + sig + `"`, nil
}

// PayParams are the arguments of wx.requestPayment in the Mini Program, with
// the JSON names it takes. Hand them to the Mini Program as they are.
type PayParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// PayParamsMessage is what paySign covers: appId\ntimeStamp\nnonceStr\npackage\n.
func PayParamsMessage(appID, timeStamp, nonceStr, pkg string) []byte {
	return []byte(appID + "\n" + timeStamp + "\n" + nonceStr + "\n" + pkg + "\n")
}

// PayParams signs the wx.requestPayment arguments for prepayID with the
// merchant key. appID is the Mini Program the payer pays in; empty means the
// client's: SubAppID in partner (institutional) mode when configured, else
// AppID (SpAppID).
func (c *Client) PayParams(prepayID, appID string) (*PayParams, error) {
	if prepayID == "" {
		return nil, configError("prepay id is empty")
	}
	if appID == "" {
		appID = c.payerAppID()
	}
	p := &PayParams{
		AppID:     appID,
		TimeStamp: strconv.FormatInt(c.now().Unix(), 10),
		NonceStr:  nonce(),
		Package:   "prepay_id=" + prepayID,
		SignType:  "RSA",
	}
	sig, err := signSHA256(c.key, PayParamsMessage(p.AppID, p.TimeStamp, p.NonceStr, p.Package))
	if err != nil {
		return nil, err
	}
	p.PaySign = sig
	return p, nil
}

// payerAppID is the app payers use: the sub-merchant's Mini Program if
// configured, else the merchant's (service provider's) app.
func (c *Client) payerAppID() string {
	if c.subAppID != "" {
		return c.subAppID
	}
	return c.appID
}
