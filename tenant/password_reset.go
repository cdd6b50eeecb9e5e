package tenant

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/vault"
)

// ResetValidity is how long a password-reset link works.
const ResetValidity = time.Hour

// Requests for reset links: per address and per IP within resetWindow.
const (
	resetWindow     = time.Hour
	resetPerAccount = 5
	resetPerIP      = 30
)

// A reset token is "{user id}.{expiry unix}.{mac}", the MAC taken with a
// platform key over the id, the expiry and the user's current password hash.
// Nothing is stored: changing the password (with the link or otherwise)
// changes the hash, so a link works once, and never after the expiry.
func (t *Team) resetMAC(ctx context.Context, userID, exp int64, passwordHash string) ([]byte, error) {
	return vault.NewPlatformKeys(t.accounts.keys, t.db).MAC(ctx, "password-reset",
		fmt.Appendf(nil, "%d\x00%d\x00%s", userID, exp, passwordHash))
}

// RequestPasswordReset emails a reset link to email if it has an account.
// It answers the same whether or not the account exists; requests beyond
// the limits are dropped silently, for the same reason.
func (t *Team) RequestPasswordReset(ctx context.Context, email, ip string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if !t.resetAllowed(ctx, email, ip) {
		return nil
	}
	var u struct {
		ID           int64
		PasswordHash string
	}
	if err := t.db.WithContext(ctx).Raw(`SELECT id, password_hash FROM users WHERE email = ?`, email).Scan(&u).Error; err != nil {
		return err
	}
	if u.ID == 0 {
		return nil
	}
	exp := time.Now().Add(ResetValidity).Unix()
	mac, err := t.resetMAC(ctx, u.ID, exp, u.PasswordHash)
	if err != nil {
		return err
	}
	token := fmt.Sprintf("%d.%d.%s", u.ID, exp, base64.RawURLEncoding.EncodeToString(mac))
	link := t.publicURL + "/admin/reset-password?token=" + url.QueryEscape(token)
	body := "Someone (we hope you) asked to reset the password of your Minishop account.\n\n" +
		"Choose a new password here (the link works once, for one hour):\n" + link + "\n\n" +
		"If it was not you, ignore this email: your password stays as it is."
	return t.mail.Send(ctx, email, "Reset your Minishop password", body)
}

// resetAllowed counts a request against the address and the IP. With Redis
// down it allows the request (the mail is the only effect).
func (t *Team) resetAllowed(ctx context.Context, email, ip string) bool {
	rdb := t.accounts.rdb
	for _, k := range []struct {
		key   string
		limit int64
	}{{"minishop:reset:acct:" + hashKey(email), resetPerAccount}, {"minishop:reset:ip:" + hashKey(ip), resetPerIP}} {
		pipe := rdb.TxPipeline()
		n := pipe.Incr(ctx, k.key)
		pipe.ExpireNX(ctx, k.key, resetWindow)
		if _, err := pipe.Exec(ctx); err != nil {
			return true
		}
		if n.Val() > k.limit {
			return false
		}
	}
	return true
}

// ResetPassword sets a new password with a token from a reset link, and
// signs the user out everywhere. A malformed, expired, used or forged token
// is invalid_reset_token; a weak password is weak_password (the link stays
// usable).
func (t *Team) ResetPassword(ctx context.Context, token, password string) error {
	bad := errs.E(errs.Invalid, "invalid_reset_token", "this reset link is not valid: it has expired or was already used; ask for a new one")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return bad
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	mac, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || id <= 0 || time.Now().Unix() > exp {
		return bad
	}
	var hash string
	if err := t.db.WithContext(ctx).Raw(`SELECT password_hash FROM users WHERE id = ?`, id).Scan(&hash).Error; err != nil {
		return err
	}
	if hash == "" {
		return bad
	}
	want, err := t.resetMAC(ctx, id, exp, hash)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac, want) {
		return bad
	}
	return t.accounts.SetPassword(ctx, id, password)
}

// RegisterPasswordReset mounts the public POST /password-reset and
// POST /password-reset/confirm under /api/admin/v1.
func (h *Handler) RegisterPasswordReset(r Router) {
	r.POST("/password-reset", PermPublic, func(c *gin.Context) {
		var in struct {
			Email string `json:"email" binding:"required"`
		}
		if !bind(c, &in) {
			return
		}
		ok(c, http.StatusAccepted, nil, h.Team.RequestPasswordReset(c.Request.Context(), in.Email, c.ClientIP()))
	})
	r.POST("/password-reset/confirm", PermPublic, func(c *gin.Context) {
		var in struct {
			Token    string `json:"token" binding:"required"`
			Password string `json:"password" binding:"required"`
		}
		if !bind(c, &in) {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Team.ResetPassword(c.Request.Context(), in.Token, in.Password))
	})
}
