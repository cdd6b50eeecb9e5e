// Package wechat is Minishop's client for the WeChat Mini Program server APIs
// it needs: code2Session (login) and getStableAccessToken. It speaks to the
// real api.weixin.qq.com or to internal/sandbox, which answers in the same
// wire format.
//
// Errors come in two classes. *Error is WeChat's answer to the request (a
// non-zero errcode; see IsTokenExpired, IsCodeInvalid, IsRateLimited).
// Anything else that stops a call from getting such an answer matches
// ErrUnavailable. No error text ever contains the app secret or a
// session_key.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the production WeChat API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// maxReply bounds how much of a reply is read; real replies are a few
// hundred bytes, so anything near this is not WeChat.
const maxReply = 1 << 20

// defaultHTTP is used when Client.HTTP is nil. The timeout keeps a hung
// WeChat from holding a login request open indefinitely. Redirects are not
// followed: WeChat never sends them, and following one would hand the secret
// in the query string to whatever host it names.
var defaultHTTP = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// Client calls the WeChat API. The zero value is not usable: BaseURL must be
// set. A Client is safe for concurrent use if HTTP is.
type Client struct {
	// BaseURL is the scheme and host, optionally with a path prefix, such as
	// DefaultBaseURL or a sandbox's URL. A trailing slash is ignored.
	BaseURL string
	// HTTP sends the requests; nil means a shared client with a 10 s
	// timeout that does not follow redirects.
	HTTP *http.Client
}

// New returns a Client for baseURL, or for DefaultBaseURL if baseURL is
// empty, using the default HTTP client.
func New(baseURL string) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{BaseURL: baseURL}
}

// Session is the result of a successful code2Session. SessionKey is a
// credential (it decrypts the user's data); String and LogValue hide it.
type Session struct {
	OpenID     string
	UnionID    string // empty unless the app is bound to an Open Platform account
	SessionKey string
}

// String formats the session without its SessionKey.
func (s Session) String() string {
	return fmt.Sprintf("{OpenID:%s UnionID:%s SessionKey:[redacted]}", s.OpenID, s.UnionID)
}

// LogValue logs the session without its SessionKey.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("openid", s.OpenID), slog.String("unionid", s.UnionID))
}

// Token is an access token and how long WeChat says it stays valid from the
// moment of the reply.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// String formats the token without the token itself.
func (t Token) String() string {
	return fmt.Sprintf("{AccessToken:[redacted] ExpiresIn:%s}", t.ExpiresIn)
}

// LogValue logs the token without the token itself.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.Duration("expires_in", t.ExpiresIn))
}

// Code2Session exchanges a Mini Program login code (from wx.login()) for the
// user's openid, unionid and session_key. A code works once and for about
// five minutes; IsCodeInvalid(err) means the front end must log in again.
func (c *Client) Code2Session(ctx context.Context, appID, secret, code string) (Session, error) {
	const op = "code2session"
	u, err := c.endpoint(op, "/sns/jscode2session")
	if err != nil {
		return Session{}, err
	}
	u.RawQuery = url.Values{
		"appid":      {appID},
		"secret":     {secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Session{}, requestError(op, err, secret)
	}
	var reply struct {
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
	}
	if err := c.do(req, op, &reply, secret); err != nil {
		return Session{}, err
	}
	if reply.OpenID == "" || reply.SessionKey == "" {
		return Session{}, unavailable(op, "reply has no openid or session_key", nil)
	}
	return Session{OpenID: reply.OpenID, UnionID: reply.UnionID, SessionKey: reply.SessionKey}, nil
}

// StableToken calls getStableAccessToken. With force false WeChat returns
// the current token (the same one to every caller until shortly before it
// expires); force true replaces it at once and invalidates the previous one,
// which WeChat allows 20 times a day, 30 s apart. Callers should share one
// token per app rather than call this per request.
func (c *Client) StableToken(ctx context.Context, appID, secret string, force bool) (Token, error) {
	const op = "stable_token"
	u, err := c.endpoint(op, "/cgi-bin/stable_token")
	if err != nil {
		return Token{}, err
	}
	body, err := json.Marshal(struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}{"client_credential", appID, secret, force})
	if err != nil {
		return Token{}, fmt.Errorf("wechat: %s: encoding request: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Token{}, requestError(op, err, secret)
	}
	req.Header.Set("Content-Type", "application/json")
	var reply struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.do(req, op, &reply, secret); err != nil {
		return Token{}, err
	}
	if reply.AccessToken == "" || reply.ExpiresIn <= 0 {
		return Token{}, unavailable(op, "reply has no access_token or expires_in", nil)
	}
	return Token{AccessToken: reply.AccessToken, ExpiresIn: time.Duration(reply.ExpiresIn) * time.Second}, nil
}

// endpoint resolves path against BaseURL. A bad BaseURL is a configuration
// error, not unavailability, so it does not match ErrUnavailable.
func (c *Client) endpoint(op, path string) (*url.URL, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wechat: %s: BaseURL %q is not an http(s) URL", op, c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func requestError(op string, err error, secrets ...string) error {
	return fmt.Errorf("wechat: %s: building request: %s", op, redact(stripURL(err).Error(), secrets...))
}

// do sends req and decodes a 200 JSON reply into out, turning a non-zero
// errcode into *Error and every other failure into ErrUnavailable. secrets
// are scrubbed from any text that ends up in an error.
func (c *Client) do(req *http.Request, op string, out any, secrets ...string) error {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return unavailable(op, "request failed", err, secrets...)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return unavailable(op, fmt.Sprintf("HTTP status %d", resp.StatusCode), nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return unavailable(op, "reading reply", err, secrets...)
	}
	if len(body) > maxReply {
		return unavailable(op, "reply is larger than 1 MiB", nil)
	}
	// WeChat labels some JSON replies text/plain, so the Content-Type is
	// not checked; the body must be JSON either way. Decoding errors are
	// reported without the body, which may hold a session_key.
	var status struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &status); err != nil {
		return unavailable(op, "reply is not the expected JSON", nil)
	}
	if status.ErrCode != 0 {
		return &Error{Code: status.ErrCode, Msg: redact(status.ErrMsg, secrets...)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return unavailable(op, "reply is not the expected JSON", nil)
	}
	return nil
}
