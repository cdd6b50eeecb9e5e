package wechat

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Error is an error answered by the WeChat API itself: the reply carried a
// non-zero errcode. Msg is WeChat's errmsg (with its " rid: …" suffix, which
// WeChat support asks for). Error values never contain the app secret or a
// session_key.
type Error struct {
	Code int
	Msg  string
}

// Error returns "wechat: errcode <Code>: <Msg>".
func (e *Error) Error() string {
	return fmt.Sprintf("wechat: errcode %d: %s", e.Code, e.Msg)
}

// ErrUnavailable matches, via errors.Is, every failure to get an answer from
// WeChat: transport errors, timeouts, non-200 HTTP statuses, bodies that are
// too large or not the expected JSON. Such calls may be retried later; an
// *Error, by contrast, is WeChat's verdict on the request.
var ErrUnavailable = errors.New("wechat: service unavailable")

// unavailableError carries the reason for an ErrUnavailable. reason is built
// by this package and never holds the request URL, whose query contains the
// app secret.
type unavailableError struct {
	op     string
	reason string
	cause  error
}

func (e *unavailableError) Error() string {
	return "wechat: " + e.op + ": service unavailable: " + e.reason
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap exposes the transport cause (for example context.DeadlineExceeded)
// with any *url.Error peeled off, since its text holds the full URL.
func (e *unavailableError) Unwrap() error { return e.cause }

// unavailable builds the error for a failed call. cause may be nil. Every
// secret given is scrubbed from the text, in case a lower layer quoted it.
func unavailable(op, reason string, cause error, secrets ...string) error {
	cause = stripURL(cause)
	if cause != nil {
		reason += ": " + cause.Error()
	}
	return &unavailableError{op: op, reason: redact(reason, secrets...), cause: cause}
}

// stripURL removes *url.Error layers: their Error() prints the request URL,
// secret and all.
func stripURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
			// The secret may also appear URL-encoded.
			if esc := url.QueryEscape(sec); esc != sec {
				s = strings.ReplaceAll(s, esc, "[redacted]")
			}
		}
	}
	return s
}

func code(err error) (int, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// IsTokenExpired reports whether err is WeChat rejecting an access_token
// (40001 invalid or not latest, 40014 invalid, 42001 expired): the caller
// should fetch a new token and retry once.
func IsTokenExpired(err error) bool {
	c, ok := code(err)
	return ok && (c == 40001 || c == 40014 || c == 42001)
}

// IsCodeInvalid reports whether err is WeChat refusing a login js_code
// (40029 invalid or from another app, 40163 already used): the Mini Program
// must call wx.login() again; retrying the same code cannot succeed.
func IsCodeInvalid(err error) bool {
	c, ok := code(err)
	return ok && (c == 40029 || c == 40163)
}

// IsRateLimited reports whether err is a WeChat quota refusal (45011 per-user
// minute quota, 45009 daily API quota): retry only after the quota resets.
func IsRateLimited(err error) bool {
	c, ok := code(err)
	return ok && (c == 45011 || c == 45009)
}
