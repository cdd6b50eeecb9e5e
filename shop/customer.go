package shop

// The Mini Program's customers: WeChat login, the customer token and the
// customer's own profile. Addresses, buyer identities and the cart are in
// customer_address.go, identity.go and cart.go.

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/wechat"
	"github.com/minishop/minishop/tenant"
)

// registerCustomer mounts login and everything a signed-in customer does.
// Only login is open; the rest needs a customer token of this shop.
func (h *Handler) registerCustomer(rg *gin.RouterGroup) {
	rg.POST("/auth/wechat", h.login)

	me := rg.Group("/me", h.requireCustomer())
	me.GET("", h.me)
	me.PATCH("", h.updateMe)
	me.GET("/addresses", h.listAddresses)
	me.POST("/addresses", h.createAddress)
	me.PUT("/addresses/:id", h.updateAddress)
	me.DELETE("/addresses/:id", h.deleteAddress)
	me.POST("/addresses/:id/default", h.defaultAddress)
	me.GET("/identities", h.listIdentities)
	me.POST("/identities", h.createIdentity)
	me.DELETE("/identities/:id", h.deleteIdentity)
	me.POST("/identities/:id/default", h.defaultIdentity)

	cart := rg.Group("/cart", h.requireCustomer())
	cart.GET("", h.cart)
	cart.POST("/items", h.addToCart)
	cart.PUT("/items/:sku_id", h.setCartItem)
	cart.DELETE("/items/:sku_id", h.removeCartItem)
}

// Customer is a Mini Program user of a shop, as they see themselves. The
// WeChat session_key is never part of it.
type Customer struct {
	ID          int64     `json:"id"`
	OpenID      string    `json:"openid" gorm:"column:openid"`
	Nickname    string    `json:"nickname"`
	Phone       string    `json:"phone"`
	CreatedAt   time.Time `json:"created_at"`
	LastLoginAt time.Time `json:"last_login_at"`
}

const customerColumns = `id, openid, nickname, phone, created_at, last_login_at`

// Login is the answer to a successful WeChat login.
type Login struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Customer  Customer  `json:"customer"`
}

// LoginInput is the body of POST /auth/wechat: the code of wx.login().
type LoginInput struct {
	Code string `json:"code"`
}

// The purpose binds a sealed session_key to its customer.
func sessionKeyPurpose(customerID int64) string {
	return "customer/" + strconv.FormatInt(customerID, 10) + "/session_key"
}

// LoginWeChat signs a Mini Program user in with the code of wx.login(): it
// exchanges the code with WeChat (the sandbox while the shop is in test
// mode), creates the customer on first login, keeps the session_key sealed
// and returns a customer token. A code works once; WeChat's refusals come
// back as invalid_code, code_used (400), rate_limited (429), blocked_user
// (403); WeChat being unreachable as wechat_unavailable (503, retryable); a
// shop without credentials yet as not_provisioned (409).
func (s *Service) LoginWeChat(ctx context.Context, code string) (*Login, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 256 {
		return nil, invalid("code", "send the code that wx.login() returned")
	}
	mp, err := s.Tenants.MiniProgramCredentials(ctx)
	if err != nil {
		return nil, err
	}
	base := s.WeChatAPI
	if mp.Mode != tenant.ModeLive {
		base = s.SandboxURL
		if base == "" {
			return nil, errs.Wrap(errors.New("shop: SandboxURL is not set"), "login")
		}
	}
	sess, err := wechat.New(base).Code2Session(ctx, mp.AppID, mp.Secret, code)
	if err != nil {
		return nil, loginError(err)
	}
	var out Login
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO customers (tenant_id, openid, unionid) VALUES (?, ?, NULLIF(?, ''))
			ON CONFLICT (tenant_id, openid) DO UPDATE SET unionid = COALESCE(EXCLUDED.unionid, customers.unionid), last_login_at = now()
			RETURNING `+customerColumns, tid, sess.OpenID, sess.UnionID).Scan(&out.Customer).Error; err != nil {
			return err
		}
		sealed, err := s.Keys.Seal(ctx, tx, tid, sessionKeyPurpose(out.Customer.ID), []byte(sess.SessionKey))
		if err != nil {
			return err
		}
		return tx.Exec(`UPDATE customers SET session_key_sealed = ? WHERE tenant_id = ? AND id = ?`,
			db.Bytes(sealed), tid, out.Customer.ID).Error
	})
	if err != nil {
		return nil, err
	}
	out.Token, out.ExpiresAt, err = s.issueToken(ctx, out.Customer.ID, time.Now())
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// retryAfterError is an error after which the client may try again later.
type retryAfterError struct {
	err   *errs.Error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

func retryAfter(e *errs.Error, d time.Duration) error { return &retryAfterError{err: e, after: d} }

// loginError turns what WeChat said about a login code into what the Mini
// Program can act on.
func loginError(err error) error {
	unavailable := retryAfter(&errs.Error{Kind: errs.Unavailable, Code: "wechat_unavailable",
		Message: "WeChat is not answering right now; try signing in again in a few seconds", Err: err}, 5*time.Second)
	var we *wechat.Error
	if !errors.As(err, &we) {
		if errors.Is(err, wechat.ErrUnavailable) {
			return unavailable
		}
		return err
	}
	switch we.Code {
	case 40029:
		return errs.E(errs.Invalid, "invalid_code", "the login code is not valid (expired, or from another Mini Program); call wx.login() again")
	case 40163:
		return errs.E(errs.Invalid, "code_used", "this login code was already used; call wx.login() again for a new one")
	case 45011, 45009:
		return retryAfter(errs.E(errs.RateLimited, "rate_limited", "too many sign-in attempts; wait a minute and try again"), time.Minute)
	case 40226:
		return errs.E(errs.Forbidden, "blocked_user", "WeChat refused this sign-in because the account is flagged as high-risk")
	case -1:
		return unavailable
	case 40013, 40125, 41002, 41004:
		// The shop's AppID or AppSecret is wrong: only its owner can fix it.
		return &errs.Error{Kind: errs.Unavailable, Code: "shop_misconfigured",
			Message: "this shop's WeChat settings are not working; sign-in is unavailable until the shop fixes them", Err: err}
	default:
		return &errs.Error{Kind: errs.Unavailable, Code: "wechat_error",
			Message: "WeChat refused the sign-in (error " + strconv.Itoa(we.Code) + "); try again later", Err: err}
	}
}

// Me returns the signed-in customer's profile.
func (s *Service) Me(ctx context.Context) (*Customer, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	var out []Customer
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT `+customerColumns+` FROM customers WHERE tenant_id = ? AND id = ?`, tid, cid).Scan(&out).Error
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errBadToken // the customer was deleted while the token was out
	}
	return &out[0], nil
}

// ProfileInput changes the profile; absent fields stay as they are, an
// empty phone clears it.
type ProfileInput struct {
	Nickname *string `json:"nickname"`
	Phone    *string `json:"phone"`
}

var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// normalizeMobile returns a mainland mobile number as 11 digits, accepting
// spaces, hyphens and a +86 / 0086 prefix.
func normalizeMobile(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
	for _, p := range []string{"+86", "0086"} {
		if t, ok := strings.CutPrefix(s, p); ok {
			s = t
			break
		}
	}
	return s, mobilePattern.MatchString(s)
}

func cleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func (in *ProfileInput) validate() error {
	if in.Nickname != nil {
		n := cleanText(*in.Nickname)
		if utf8.RuneCountInString(n) > 64 || hasControl(n) {
			return invalid("nickname", "the nickname must be at most 64 characters")
		}
		in.Nickname = &n
	}
	if in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
		p, ok := normalizeMobile(*in.Phone)
		if !ok {
			return invalid("phone", "enter a mainland China mobile number: 11 digits starting with 13 to 19")
		}
		in.Phone = &p
	} else if in.Phone != nil {
		empty := ""
		in.Phone = &empty
	}
	return nil
}

// UpdateMe changes the signed-in customer's nickname and phone.
func (s *Service) UpdateMe(ctx context.Context, in ProfileInput) (*Customer, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out []Customer
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`UPDATE customers SET nickname = COALESCE(?, nickname), phone = COALESCE(?, phone)
			WHERE tenant_id = ? AND id = ? RETURNING `+customerColumns, in.Nickname, in.Phone, tid, cid).Scan(&out).Error
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errBadToken
	}
	return &out[0], nil
}

// customerScope returns the tenant and the signed-in customer of ctx.
func customerScope(ctx context.Context) (tid, cid int64, err error) {
	if tid, err = tenantID(ctx); err != nil {
		return 0, 0, err
	}
	cid, err = currentCustomer(ctx)
	return tid, cid, err
}

// lockCustomer takes the customer's row lock in tx, serialising the
// customer's writes that check a limit (addresses, identities, cart lines)
// or keep one default. A customer deleted while their token was out is
// invalid_token.
func lockCustomer(tx *gorm.DB, tid, cid int64) error {
	var ids []int64
	if err := tx.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, cid).Scan(&ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return errBadToken
	}
	return nil
}

// pathID reads a positive id from the path; anything else is not found.
func pathID(c *gin.Context, name, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, what+"_not_found", "no such "+strings.ReplaceAll(what, "_", " "))
	}
	return id, nil
}

// fail writes err, with Retry-After when the error says when to retry.
func fail(c *gin.Context, err error) {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		c.Header("Retry-After", strconv.Itoa(int(ra.after/time.Second)))
	}
	httpx.Error(c, err)
}

func (h *Handler) login(c *gin.Context) {
	var in LoginInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.LoginWeChat(c.Request.Context(), in.Code)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) me(c *gin.Context) {
	out, err := h.S.Me(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handler) updateMe(c *gin.Context) {
	var in ProfileInput
	if err := httpx.Bind(c, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.S.UpdateMe(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
