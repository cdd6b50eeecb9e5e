package wechatpay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// APIError is WeChat Pay's answer to a request it refused: a non-2xx status
// with a JSON body {"code":"ORDER_NOT_EXIST","message":"订单不存在"}. Code is
// WeChat Pay's error code, Message its text, Detail the optional "detail"
// object as sent. RequestID is the Request-ID header that WeChat Pay support
// asks for. Error bodies are not signature-checked (as in WeChat's own SDK),
// so an APIError is a refusal to act, never a reason to record a payment.
//
// An APIError with a 5xx status (SYSTEM_ERROR and the like) or 429
// (FREQUENCY_LIMITED) also matches ErrUnavailable: the call may be retried.
type APIError struct {
	Status    int
	Code      string
	Message   string
	Detail    json.RawMessage
	RequestID string
}

// Error returns "wechatpay: <Status> <Code>: <Message>".
func (e *APIError) Error() string {
	return fmt.Sprintf("wechatpay: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes a server-side or rate-limit refusal match ErrUnavailable.
func (e *APIError) Is(target error) bool {
	return target == ErrUnavailable && (e.Status >= 500 || e.Status == 429)
}

// IsCode reports whether err is an *APIError with the given WeChat Pay code,
// such as "ORDER_NOT_EXIST" or "ORDERPAID".
func IsCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// ErrUnavailable matches, via errors.Is, every failure to get a trustworthy
// answer from WeChat Pay: transport errors, timeouts, 5xx and 429 answers,
// bodies that are too large or not WeChat Pay's JSON. Such calls may be
// retried; calls that change state should be followed by a query, since the
// request may have taken effect.
var ErrUnavailable = errors.New("wechatpay: service unavailable")

type unavailableError struct {
	op     string
	reason string
	cause  error
}

func (e *unavailableError) Error() string {
	return "wechatpay: " + e.op + ": service unavailable: " + e.reason
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap exposes the transport cause (for example
// context.DeadlineExceeded) with any *url.Error peeled off.
func (e *unavailableError) Unwrap() error { return e.cause }

// unavailable builds the error for a failed call; cause may be nil. Texts
// built here never hold request headers or bodies, so no secret can leak.
func unavailable(op, reason string, cause error) error {
	cause = stripURL(cause)
	if cause != nil {
		reason += ": " + cause.Error()
	}
	return &unavailableError{op: op, reason: reason, cause: cause}
}

func stripURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

// ErrInvalidSignature matches every *SignatureError: an answer or a
// notification that does not authenticate. A notification handler should
// answer it with HTTP 401; a client call that gets it has an unknown
// outcome and must not act on the body.
var ErrInvalidSignature = errors.New("wechatpay: invalid signature")

// SignatureReason says why a signature check failed.
type SignatureReason string

const (
	// ReasonMissingHeaders: a Wechatpay-Serial, -Signature, -Timestamp or
	// -Nonce header is missing (a forged answer, or a proxy that strips
	// them).
	ReasonMissingHeaders SignatureReason = "missing_headers"
	// ReasonProbe: the signature starts with WECHATPAY/SIGNTEST/, a probe
	// that WeChat Pay sends to check that merchants verify signatures.
	ReasonProbe SignatureReason = "probe"
	// ReasonTimestamp: Wechatpay-Timestamp is not a number or is five
	// minutes or more away from the local clock.
	ReasonTimestamp SignatureReason = "timestamp"
	// ReasonUnknownSerial: Wechatpay-Serial names neither a configured
	// platform certificate nor the configured public key.
	ReasonUnknownSerial SignatureReason = "unknown_serial"
	// ReasonBadSignature: the signature is not base64, uses another
	// algorithm, or does not match the message.
	ReasonBadSignature SignatureReason = "bad_signature"
)

// SignatureError is a failed signature check. Serial is the Wechatpay-Serial
// header as received (a public identifier, not a secret).
type SignatureError struct {
	Reason SignatureReason
	Serial string
	msg    string
}

func (e *SignatureError) Error() string {
	return "wechatpay: invalid signature (" + string(e.Reason) + "): " + e.msg
}

// Is makes every SignatureError match ErrInvalidSignature.
func (e *SignatureError) Is(target error) bool { return target == ErrInvalidSignature }

func sigError(reason SignatureReason, serial, format string, args ...any) error {
	return &SignatureError{Reason: reason, Serial: serial, msg: fmt.Sprintf(format, args...)}
}

// ErrMalformedNotification matches a notification whose signature is valid
// (or not yet checked) but whose body cannot be used: not the notification
// JSON, an unknown algorithm, or a resource that does not decrypt with the
// APIv3 key. A handler should answer HTTP 400; WeChat Pay will retry.
var ErrMalformedNotification = errors.New("wechatpay: malformed notification")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedNotification}, args...)...)
}
