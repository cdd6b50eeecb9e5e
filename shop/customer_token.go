package shop

// Customer tokens. A token is stateless and signed: the tenant, the customer
// and the expiry, with an HMAC-SHA256 under the platform key
// "customer-token" (vault.PlatformKeys: random, sealed under the master key,
// the same in every process and unchanged by master key rotation). Checking
// one costs no database or Redis round trip, and a token of one shop is
// refused by every other shop because the tenant is inside the signed part.
// The price is that a token cannot be revoked before it expires; when that
// is needed (log out everywhere), a per-customer "not before" time checked
// here will do it.

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
)

// CustomerTokenTTL is how long a customer token is valid.
const CustomerTokenTTL = 30 * 24 * time.Hour

const (
	tokenKeyName = "customer-token"
	tokenPrefix  = "mct1."
	tokenVersion = 1
	claimsLen    = 1 + 8 + 8 + 8
	macLen       = 32
)

// macer computes keyed hashes under named platform keys; *vault.PlatformKeys
// is one.
type macer interface {
	MAC(ctx context.Context, name string, data []byte) ([]byte, error)
}

// tokenClaims is what a customer token says.
type tokenClaims struct {
	TenantID   int64
	CustomerID int64
	Expires    time.Time
}

func (s *Service) macer() (macer, error) {
	if s.Platform == nil {
		return nil, errs.Wrap(errors.New("shop: Deps.Platform is not set"), "customer tokens")
	}
	return s.Platform, nil
}

// signToken returns "mct1." + base64url(version | tenant | customer | expiry | mac).
func signToken(ctx context.Context, m macer, c tokenClaims) (string, error) {
	buf := make([]byte, claimsLen, claimsLen+macLen)
	buf[0] = tokenVersion
	binary.BigEndian.PutUint64(buf[1:], uint64(c.TenantID))
	binary.BigEndian.PutUint64(buf[9:], uint64(c.CustomerID))
	binary.BigEndian.PutUint64(buf[17:], uint64(c.Expires.Unix()))
	sum, err := m.MAC(ctx, tokenKeyName, buf)
	if err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(append(buf, sum...)), nil
}

var (
	errBadToken     = errs.E(errs.Unauthorized, "invalid_token", "this sign-in is not valid for this shop; sign in again")
	errExpiredToken = errs.E(errs.Unauthorized, "token_expired", "your sign-in has expired; sign in again")
	errNoToken      = errs.E(errs.Unauthorized, "login_required", "sign in first (send Authorization: Bearer <token>)")
)

// parseToken checks a token for tenantID at now. Anything wrong is
// errBadToken (or errExpiredToken), never a hint of which part failed.
func parseToken(ctx context.Context, m macer, tok string, tenantID int64, now time.Time) (tokenClaims, error) {
	raw, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok || len(raw) > 128 {
		return tokenClaims{}, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != claimsLen+macLen || b[0] != tokenVersion {
		return tokenClaims{}, errBadToken
	}
	want, err := m.MAC(ctx, tokenKeyName, b[:claimsLen])
	if err != nil {
		return tokenClaims{}, err
	}
	if !hmac.Equal(want, b[claimsLen:]) {
		return tokenClaims{}, errBadToken
	}
	c := tokenClaims{
		TenantID:   int64(binary.BigEndian.Uint64(b[1:])),
		CustomerID: int64(binary.BigEndian.Uint64(b[9:])),
		Expires:    time.Unix(int64(binary.BigEndian.Uint64(b[17:])), 0).UTC(),
	}
	if c.TenantID != tenantID || c.CustomerID <= 0 {
		return tokenClaims{}, errBadToken
	}
	if !now.Before(c.Expires) {
		return tokenClaims{}, errExpiredToken
	}
	return c, nil
}

// issueToken signs a token for a customer of the tenant in ctx.
func (s *Service) issueToken(ctx context.Context, customerID int64, now time.Time) (string, time.Time, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	m, err := s.macer()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := now.Add(CustomerTokenTTL).Truncate(time.Second).UTC()
	tok, err := signToken(ctx, m, tokenClaims{TenantID: tid, CustomerID: customerID, Expires: exp})
	return tok, exp, err
}

// Authenticate returns the customer a bearer token names, for the tenant in
// ctx. Errors are of kind Unauthorized (or Internal if the key is missing).
func (s *Service) Authenticate(ctx context.Context, token string) (customerID int64, err error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return 0, err
	}
	m, err := s.macer()
	if err != nil {
		return 0, err
	}
	c, err := parseToken(ctx, m, token, tid, time.Now())
	if err != nil {
		return 0, err
	}
	return c.CustomerID, nil
}

type customerKey struct{}

// withCustomer returns ctx for requests of a signed-in customer.
func withCustomer(ctx context.Context, id int64) context.Context {
	ctx = context.WithValue(ctx, customerKey{}, id)
	return scope.WithActor(ctx, scope.Actor{Kind: "customer", ID: strconv.FormatInt(id, 10)})
}

// currentCustomer returns the signed-in customer of ctx; without one, it
// fails closed with login_required.
func currentCustomer(ctx context.Context) (int64, error) {
	id, ok := ctx.Value(customerKey{}).(int64)
	if !ok || id <= 0 {
		return 0, errNoToken
	}
	return id, nil
}

// requireCustomer lets through only requests with a valid token of this
// shop (Authorization: Bearer <token>) and puts the customer in the context.
func (h *Handler) requireCustomer() gin.HandlerFunc {
	return func(c *gin.Context) {
		auth := c.GetHeader("Authorization")
		scheme, tok, _ := strings.Cut(auth, " ")
		tok = strings.TrimSpace(tok)
		var err error = errNoToken
		var id int64
		if auth != "" {
			if !strings.EqualFold(scheme, "Bearer") || tok == "" {
				err = errBadToken
			} else {
				id, err = h.S.Authenticate(c.Request.Context(), tok)
			}
		}
		if err != nil {
			if e := errs.As(err); e != nil && e.Kind == errs.Unauthorized {
				hdr := `Bearer realm="minishop"`
				if e != errNoToken {
					hdr += `, error="invalid_token"`
				}
				c.Header("WWW-Authenticate", hdr)
			}
			httpx.Error(c, err)
			return
		}
		c.Request = c.Request.WithContext(withCustomer(c.Request.Context(), id))
		c.Next()
	}
}
