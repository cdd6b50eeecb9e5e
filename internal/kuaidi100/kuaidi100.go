// Package kuaidi100 is Minishop's client for the Kuaidi100 tracking API
// (poll.kuaidi100.com): the real-time query (/poll/query.do, signed with the
// customer id and key), the subscription (/poll, which makes Kuaidi100 push
// every change to a callback URL) and the parsing and verification of those
// pushes (form field param, signed with the salt given when subscribing).
// It speaks to the real service or to internal/sandbox, which answers in the
// same wire format. Signatures are upper-case hex MD5, as Kuaidi100 defines
// them; no error text ever contains the key or the salt.
package kuaidi100

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the production host of the query and subscription APIs.
const DefaultBaseURL = "https://poll.kuaidi100.com"

// MinQueryGap is the least time between two real-time queries of one
// waybill: Kuaidi100 locks a waybill queried more often.
const MinQueryGap = 30 * time.Minute

// MaxSubscriptions is how many subscriptions Kuaidi100 accepts per waybill
// and month.
const MaxSubscriptions = 4

// Kuaidi100 states of a waybill (the "state" field).
const (
	StateInTransit       = 0
	StatePickedUp        = 1
	StateTrouble         = 2
	StateSigned          = 3
	StateRefused         = 4
	StateDelivering      = 5
	StateReturning       = 6
	StateForwarded       = 7
	StateCustomsWaiting  = 10
	StateCustomsClearing = 11
	StateCustomsCleared  = 12
	StateCustomsProblem  = 13
	StateCustomsRefused  = 14
)

var stateNames = map[int][2]string{
	StateInTransit:       {"in transit", "在途"},
	StatePickedUp:        {"picked up", "揽收"},
	StateTrouble:         {"problem", "疑难"},
	StateSigned:          {"signed for", "签收"},
	StateRefused:         {"signed back", "退签"},
	StateDelivering:      {"out for delivery", "派件"},
	StateReturning:       {"returning", "退回"},
	StateForwarded:       {"forwarded", "转投"},
	StateCustomsWaiting:  {"awaiting customs clearance", "待清关"},
	StateCustomsClearing: {"in customs clearance", "清关中"},
	StateCustomsCleared:  {"cleared by customs", "已清关"},
	StateCustomsProblem:  {"customs clearance problem", "清关异常"},
	StateCustomsRefused:  {"refused by the consignee", "收件人拒签"},
}

// StateName returns the English and Chinese names of a state ("state 99"
// for an unknown one).
func StateName(state int) (en, zh string) {
	n, ok := stateNames[state]
	if !ok {
		s := "state " + strconv.Itoa(state)
		return s, s
	}
	return n[0], n[1]
}

// IsCustoms reports whether state is one of the customs clearance states 10–14.
func IsCustoms(state int) bool { return state >= StateCustomsWaiting && state <= StateCustomsRefused }

// Account is a Kuaidi100 account: the customer id and key of the query API
// and the salt the pushes are signed with. String and LogValue hide the
// secrets.
type Account struct {
	Customer string
	Key      string
	Salt     string
}

// String formats the account without its secrets.
func (a Account) String() string {
	return "{Customer:" + a.Customer + " Key:[redacted] Salt:[redacted]}"
}

// LogValue logs the account without its secrets.
func (a Account) LogValue() slog.Value { return slog.StringValue(a.Customer) }

// Sign is upper(hex(md5(s))), Kuaidi100's signature over the concatenation
// the API names.
func Sign(parts ...string) string {
	h := md5.New()
	for _, p := range parts {
		io.WriteString(h, p)
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// Trace is one line of a waybill's history. Times are China time,
// "2006-01-02 15:04:05".
type Trace struct {
	Time       string `json:"time"`
	FTime      string `json:"ftime"`
	Context    string `json:"context"`
	Location   string `json:"location,omitempty"`
	AreaCode   string `json:"areaCode,omitempty"`
	AreaName   string `json:"areaName,omitempty"`
	Status     string `json:"status,omitempty"`
	StatusCode string `json:"statusCode,omitempty"`
}

// cst is China Standard Time, the zone of every Kuaidi100 time.
var cst = time.FixedZone("CST", 8*3600)

// At parses the trace's time (ftime, else time); ok is false if neither parses.
func (t Trace) At() (time.Time, bool) {
	for _, s := range []string{t.FTime, t.Time} {
		if at, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(s), cst); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

// Result is a waybill's state and history, newest first: the answer of a
// query and the lastResult of a push.
type Result struct {
	Message   string  `json:"message"`
	Nu        string  `json:"nu"`
	IsCheck   string  `json:"ischeck"`
	Condition string  `json:"condition"`
	Com       string  `json:"com"`
	Status    string  `json:"status"`
	State     string  `json:"state"`
	Data      []Trace `json:"data"`
}

// StateCode is the numeric state, or -1 when absent or not a number.
func (r *Result) StateCode() int {
	n, err := strconv.Atoi(strings.TrimSpace(r.State))
	if err != nil {
		return -1
	}
	return n
}

// Error is Kuaidi100's refusal of a request: returnCode and message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "kuaidi100: " + e.Code + ": " + e.Message }

// ErrUnavailable matches (errors.Is) every failure to get an answer:
// transport errors, non-200 statuses, replies that are not the expected JSON.
var ErrUnavailable = errors.New("kuaidi100: service unavailable")

type unavailable struct{ reason string }

func (e *unavailable) Error() string        { return "kuaidi100: unavailable: " + e.reason }
func (e *unavailable) Is(target error) bool { return target == ErrUnavailable }

// code returns the returnCode of a Kuaidi100 refusal.
func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsDuplicate reports a subscription refused because the waybill is
// already subscribed (501): the existing subscription keeps pushing.
func IsDuplicate(err error) bool { return code(err) == "501" }

// IsTooFrequent reports a query refused because the waybill was queried
// too often (504).
func IsTooFrequent(err error) bool { return code(err) == "504" }

// Client calls Kuaidi100. BaseURL is DefaultBaseURL or a sandbox's URL; HTTP
// nil means a client with a 10 s timeout.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// QueryParam is the param of a real-time query.
type QueryParam struct {
	Com      string `json:"com"`
	Num      string `json:"num"`
	Phone    string `json:"phone,omitempty"`
	ResultV2 string `json:"resultv2,omitempty"`
	Show     string `json:"show"`
	Order    string `json:"order"`
}

// Query asks for a waybill's state and history (newest first). phone is the
// consignee's phone (or its last 4 digits), which SF and ZTO require.
// Callers must not query one waybill more often than MinQueryGap.
func (c *Client) Query(ctx context.Context, a Account, com, num, phone string) (*Result, error) {
	p, err := json.Marshal(QueryParam{Com: com, Num: num, Phone: phone, ResultV2: "4", Show: "0", Order: "desc"})
	if err != nil {
		return nil, err
	}
	param := string(p)
	form := url.Values{"customer": {a.Customer}, "param": {param}, "sign": {Sign(param, a.Key, a.Customer)}}
	body, err := c.post(ctx, "/poll/query.do", form, a.Key, a.Salt)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result
		OK         *bool  `json:"result"`
		ReturnCode string `json:"returnCode"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &unavailable{"the query reply is not the expected JSON"}
	}
	if r.OK != nil && !*r.OK || r.ReturnCode != "" && r.ReturnCode != "200" {
		return nil, &Error{Code: r.ReturnCode, Message: r.Result.Message}
	}
	return &r.Result, nil
}

// SubscribeRequest is a subscription to a waybill's changes.
type SubscribeRequest struct {
	Company     string
	Number      string
	Phone       string
	CallbackURL string // receives the pushes
	Salt        string // signs the pushes (at most 32 characters)
}

// Subscribe asks Kuaidi100 to push the waybill's changes to CallbackURL.
// A refusal is an *Error (IsDuplicate: already subscribed).
func (c *Client) Subscribe(ctx context.Context, a Account, r SubscribeRequest) error {
	type params struct {
		CallbackURL string `json:"callbackurl"`
		Salt        string `json:"salt,omitempty"`
		ResultV2    string `json:"resultv2"`
		Phone       string `json:"phone,omitempty"`
	}
	p, err := json.Marshal(struct {
		Company    string `json:"company"`
		Number     string `json:"number"`
		Key        string `json:"key"`
		Parameters params `json:"parameters"`
	}{r.Company, r.Number, a.Key, params{CallbackURL: r.CallbackURL, Salt: r.Salt, ResultV2: "4", Phone: r.Phone}})
	if err != nil {
		return err
	}
	body, err := c.post(ctx, "/poll", url.Values{"schema": {"json"}, "param": {string(p)}}, a.Key, a.Salt, r.Salt)
	if err != nil {
		return err
	}
	var out struct {
		Result     bool   `json:"result"`
		ReturnCode string `json:"returnCode"`
		Message    string `json:"message"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return &unavailable{"the subscription reply is not the expected JSON"}
	}
	if !out.Result || out.ReturnCode != "200" {
		return &Error{Code: out.ReturnCode, Message: out.Message}
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values, secrets ...string) ([]byte, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kuaidi100: BaseURL %q is not an http(s) URL", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		for _, s := range secrets {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, "[redacted]")
			}
		}
		return nil, &unavailable{"request failed: " + msg}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, &unavailable{fmt.Sprintf("HTTP status %d", resp.StatusCode)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil || len(b) > 1<<20 {
		return nil, &unavailable{"reading the reply failed or it is over 1 MiB"}
	}
	return b, nil
}

// Push is what Kuaidi100 posts to a subscription's callback URL.
type Push struct {
	Status     string `json:"status"` // polling, shutdown (signed for: no more pushes), abort, updateall
	BillStatus string `json:"billstatus"`
	Message    string `json:"message"`
	AutoCheck  string `json:"autoCheck"`
	ComOld     string `json:"comOld"`
	ComNew     string `json:"comNew"`
	LastResult Result `json:"lastResult"`
}

// ErrBadSign is a push whose sign does not match its param and the salt.
var ErrBadSign = errors.New("kuaidi100: push signature does not match")

// ParsePush verifies and decodes a push: sign must be Sign(param, salt),
// computed over param exactly as received. A missing or wrong sign is
// ErrBadSign; a param that is not a push is another error.
func ParsePush(param, sign, salt string) (*Push, error) {
	want := Sign(param, salt)
	if sign == "" || subtle.ConstantTimeCompare([]byte(strings.ToUpper(sign)), []byte(want)) != 1 {
		return nil, ErrBadSign
	}
	var p Push
	if err := json.Unmarshal([]byte(param), &p); err != nil {
		return nil, fmt.Errorf("kuaidi100: push param is not JSON: %w", err)
	}
	if p.Status == "" {
		return nil, errors.New("kuaidi100: push without status")
	}
	return &p, nil
}

// PushReply is the body Kuaidi100 expects in answer to a push: ok true tells
// it the push was taken (it will not resend it).
func PushReply(ok bool, message string) []byte {
	code := "200"
	if !ok {
		code = "500"
	}
	b, _ := json.Marshal(struct {
		Result     bool   `json:"result"`
		ReturnCode string `json:"returnCode"`
		Message    string `json:"message"`
	}{ok, code, message})
	return b
}
