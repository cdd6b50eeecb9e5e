// Package httpx is the HTTP plumbing shared by every feature: the one error
// shape, strict JSON binding, and the middleware every request passes
// (request id, access log, panic recovery, body limit, timeout, metrics).
package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

var statusOf = map[errs.Kind]int{
	errs.Invalid:       http.StatusBadRequest,
	errs.Unauthorized:  http.StatusUnauthorized,
	errs.Forbidden:     http.StatusForbidden,
	errs.NotFound:      http.StatusNotFound,
	errs.Conflict:      http.StatusConflict,
	errs.TooLarge:      http.StatusRequestEntityTooLarge,
	errs.Unprocessable: http.StatusUnprocessableEntity,
	errs.RateLimited:   http.StatusTooManyRequests,
	errs.Unavailable:   http.StatusServiceUnavailable,
	errs.Internal:      http.StatusInternalServerError,
}

// Status returns the HTTP status for err.
func Status(err error) int {
	if s, ok := statusOf[errs.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Body is the JSON shape of every error response.
type Body struct {
	Error BodyError `json:"error"`
}

// BodyError is the inside of Body.
type BodyError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Error writes err as the JSON error body and aborts the chain. Internal
// errors are logged with their cause; the client sees only a generic message
// and the request id to quote. A client whose Accept-Language prefers
// Chinese gets the message in Chinese when the error carries one or the
// catalog of errs knows it; Content-Language says which language it got.
func Error(c *gin.Context, err error) {
	rid := scope.RequestID(c.Request.Context())
	e := errs.As(err)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		e = errs.Errorf(errs.TooLarge, "request body is larger than %d bytes", mbe.Limit).
			WithZH(fmt.Sprintf("请求体超过 %d 字节", mbe.Limit))
	case e == nil || e.Kind == errs.Internal:
		slog.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", rid,
			"method", c.Request.Method, "route", c.FullPath())
		e = errs.L(errs.Internal, "internal", "something went wrong on our side; quote the request id if you contact support",
			"服务器出错了；联系客服时请提供请求 ID")
	case e.Kind == errs.Unavailable:
		slog.WarnContext(c.Request.Context(), "dependency unavailable", "err", err, "request_id", rid)
	}
	e, lang := localizeError(e, c.GetHeader("Accept-Language"))
	c.Header("Content-Language", lang)
	c.AbortWithStatusJSON(Status(e), Body{Error: BodyError{
		Code: e.CodeString(), Message: e.Message, Details: e.Details, RequestID: rid,
	}})
}

// NoRoute answers unknown paths with the JSON error shape.
func NoRoute(c *gin.Context) {
	Error(c, errs.L(errs.NotFound, "route_not_found", "no such endpoint: "+c.Request.Method+" "+c.Request.URL.Path,
		"没有这个接口："+c.Request.Method+" "+c.Request.URL.Path))
}

// NoMethod answers a known path with the wrong method.
func NoMethod(c *gin.Context) {
	c.Header("Allow", c.Writer.Header().Get("Allow"))
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, Body{Error: BodyError{
		Code: "method_not_allowed", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path,
		RequestID: scope.RequestID(c.Request.Context()),
	}})
}
