// Package errs is the one error type of Minishop. Domain code returns *Error
// with a Kind (which decides the HTTP status in one place, internal/httpx) and
// a Message meant for the person who made the request. Anything that is not an
// *Error is an internal error: it is logged with its cause and the client gets
// a generic message.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error; each kind maps to one HTTP status.
type Kind string

// The kinds of error. Codes (machine-readable, finer grained) default to the kind.
const (
	Invalid       Kind = "invalid"       // 400: the request is wrong; retrying it unchanged will not help
	Unauthorized  Kind = "unauthorized"  // 401: who you are is unknown or not proven
	Forbidden     Kind = "forbidden"     // 403: known, but not allowed
	NotFound      Kind = "not_found"     // 404: no such object (also: exists but belongs to another tenant)
	Conflict      Kind = "conflict"      // 409: the object's state does not allow it
	TooLarge      Kind = "too_large"     // 413: the body is over the limit
	Unprocessable Kind = "unprocessable" // 422: well-formed, but a business rule refuses it
	RateLimited   Kind = "rate_limited"  // 429: slow down
	Unavailable   Kind = "unavailable"   // 503: a dependency is down; retry later
	Internal      Kind = "internal"      // 500: our fault
)

// Error is a user-facing error. Message must never contain secrets: it is
// returned to clients verbatim and may be logged.
type Error struct {
	Kind    Kind
	Code    string // machine-readable, e.g. "tenant_not_found"; defaults to Kind
	Message string
	Details any   // optional structured details (e.g. the offending field)
	Err     error // optional cause, never shown to clients
	// MessageZH is Message in Simplified Chinese, shown to clients that
	// prefer Chinese (Accept-Language); empty leaves it to the catalog
	// (Chinese), then to Message.
	MessageZH string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.code(), e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.code(), e.Message)
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	return string(e.Kind)
}

// CodeString returns the machine-readable code.
func (e *Error) CodeString() string { return e.code() }

// E builds an error of kind k with code and message.
func E(k Kind, code, message string) *Error {
	return &Error{Kind: k, Code: code, Message: message}
}

// Errorf builds an error of kind k whose code is the kind, with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// WithZH returns a copy of e whose message in Chinese is zh.
func (e *Error) WithZH(zh string) *Error {
	c := *e
	c.MessageZH = zh
	return &c
}

// L builds an error of kind k with code and its message in English and Chinese.
func L(k Kind, code, en, zh string) *Error {
	return &Error{Kind: k, Code: code, Message: en, MessageZH: zh}
}

// Wrap returns an internal error with a cause; the cause is logged, not shown.
func Wrap(err error, message string) *Error {
	return &Error{Kind: Internal, Message: message, Err: err}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err: the kind of its *Error, or Internal.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
