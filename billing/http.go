package billing

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/scope"
)

// Paths of the notification routes; the tenant is the last segment (WeChat
// Pay posts to the notify_url as given, so the tenant cannot come from a
// Host).
const (
	NotifyPath       = "/api/v1/wechatpay/notify/:slug"
	RefundNotifyPath = "/api/v1/wechatpay/refund-notify/:slug"
)

// maxNotifyBody bounds what a notification route reads; real notifications
// are a few kilobytes.
const maxNotifyBody = 64 << 10

// NotifyHandler serves WeChat Pay's notifications for the tenant named by
// :slug (lookup returns its id, or an error for an unknown slug). It reads
// the raw body (the signature covers it byte for byte), hands it to
// HandleNotification and answers 204 with no body, or WeChat Pay's
// {"code":"FAIL","message":…} with a 4xx/5xx status so WeChat Pay retries.
func (g *Gateway) NotifyHandler(lookup func(ctx context.Context, slug string) (int64, error), log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxNotifyBody+1))
		if err != nil || len(body) > maxNotifyBody {
			fail(c, http.StatusRequestEntityTooLarge, "the body is too large or could not be read")
			return
		}
		tid, err := lookup(ctx, c.Param("slug"))
		if err != nil || tid <= 0 {
			fail(c, http.StatusNotFound, "no such shop")
			return
		}
		ctx = scope.WithTenant(ctx, tid)
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "wechatpay"})
		start := time.Now()
		status, err := g.HandleNotification(ctx, tid, c.Request.Header, body)
		if status == http.StatusNoContent {
			c.Status(http.StatusNoContent)
			return
		}
		lvl := slog.LevelWarn
		if status >= 500 {
			lvl = slog.LevelError
		}
		log.Log(ctx, lvl, "wechatpay notification refused", "tenant_id", tid, "status", status,
			"ms", time.Since(start).Milliseconds(), "err", err)
		msg := "the notification was not accepted"
		switch {
		case status == http.StatusUnauthorized:
			msg = "signature verification failed"
		case status == http.StatusBadRequest && err != nil:
			msg = "the notification could not be read: " + err.Error()
		case status >= 500:
			msg = "the notification could not be recorded; retry later"
		}
		fail(c, status, msg)
	}
}

// fail writes WeChat Pay's failure answer.
func fail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"code": "FAIL", "message": msg})
}
