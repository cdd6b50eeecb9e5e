package tenant

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
)

// Sign-up throttle: at most signupLimit attempts per IP address within
// signupWindow (the same Redis counters as sign-in's lockout).
const (
	signupLimit  = 20
	signupWindow = time.Hour
)

// SignupInput is what a brand gives to open an account and its shop.
type SignupInput struct {
	Email    string `json:"email" binding:"required"`
	Password string `json:"password" binding:"required"`
	Name     string `json:"name" binding:"required"`    // the person signing up
	Company  string `json:"company" binding:"required"` // the brand: the shop's display name
	Slug     string `json:"slug" binding:"required"`    // the shop's address {slug}.{base}
}

// SlugStatus says whether a slug can be taken by a new shop.
type SlugStatus struct {
	Slug      string `json:"slug"`
	Host      string `json:"host"` // the storefront host the slug would give: {slug}.{base}
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // taken, reserved or invalid
	Message   string `json:"message,omitempty"`
}

// SlugAvailability tells whether slug is free for a new shop, and if not
// why: invalid (its shape), reserved (a word of the platform) or taken.
func (s *Service) SlugAvailability(ctx context.Context, slug string) (*SlugStatus, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	out := &SlugStatus{Slug: slug, Host: s.storefrontHost(slug), Available: true}
	if err := ValidateSlug(slug); err != nil {
		out.Available = false
		out.Reason = "invalid"
		if reserved[slug] {
			out.Reason = "reserved"
		}
		out.Message = errs.As(err).Message
		return out, nil
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM tenants WHERE slug = ?`, slug).Scan(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		out.Available, out.Reason, out.Message = false, "taken", "the slug "+slug+" is already taken"
	}
	return out, nil
}

// signupThrottle counts an attempt from ip and refuses it (429) above the
// limit. With Redis down it lets the attempt through and logs.
func (a *Accounts) signupThrottle(ctx context.Context, ip string) error {
	key := "minishop:signup:ip:" + hashKey(ip)
	pipe := a.rdb.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.ExpireNX(ctx, key, signupWindow)
	ttl := pipe.TTL(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		a.log.Warn("sign-up throttle unavailable", "err", err)
		return nil
	}
	if n.Val() > signupLimit {
		secs := int(ttl.Val().Seconds())
		return errs.E(errs.RateLimited, "too_many_signups", "too many sign-ups from this address; try again in "+
			strconv.Itoa(secs/60+1)+" minute(s)").WithDetails(map[string]int{"retry_after_seconds": secs})
	}
	return nil
}

// SignUp opens an account for a brand: the user, its shop (through
// Service.Create, so provisioning is scheduled through the outbox) and the
// user's owner membership, all in one transaction, so a refused sign-up
// leaves nothing behind. A taken email or slug is a conflict (email_taken,
// slug_taken); bad input is invalid with details.field naming the field.
func SignUp(ctx context.Context, accounts *Accounts, tenants *Service, authz *Authorizer, in SignupInput, ip string) (*User, *Tenant, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 120 {
		return nil, nil, errs.E(errs.Invalid, "invalid_name", "your name must be 1 to 120 characters").WithDetails(map[string]string{"field": "name"})
	}
	company := strings.TrimSpace(in.Company)
	if company == "" || utf8.RuneCountInString(company) > 120 {
		return nil, nil, errs.E(errs.Invalid, "invalid_company", "the brand name must be 1 to 120 characters").WithDetails(map[string]string{"field": "company"})
	}
	slug := strings.ToLower(strings.TrimSpace(in.Slug))
	if err := ValidateSlug(slug); err != nil {
		return nil, nil, err
	}
	if err := accounts.signupThrottle(ctx, ip); err != nil {
		return nil, nil, err
	}
	var u *User
	var t *Tenant
	err = accounts.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = accounts.createUser(ctx, tx, email, name, in.Password); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errs.E(errs.Conflict, "email_taken", "an account with this email already exists; sign in instead").
					WithDetails(map[string]string{"field": "email"})
			}
			return err
		}
		// The tenant service's own transaction nests as a savepoint of this one.
		actx := scope.WithActor(ctx, Actor{Kind: "user", ID: strconv.FormatInt(u.ID, 10), IP: ip})
		svc := *tenants
		svc.db = tx
		if t, err = svc.Create(actx, CreateInput{Slug: slug, Name: company}); err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, ?)`, t.ID, u.ID, RoleOwner).Error; err != nil {
			return err
		}
		return auditIn(actx, tx, t.ID, "member.added", "user:"+strconv.FormatInt(u.ID, 10), map[string]any{"role": RoleOwner, "via": "signup"})
	})
	if err != nil {
		return nil, nil, err
	}
	tenants.resolver.Changed(ctx, slugKey(t.Slug))
	authz.Changed(ctx, UserSubject(u.ID), t.ID)
	return u, t, nil
}

// registerSignup mounts the public sign-up routes on the base domain:
//
//	POST /signup          → the session of the new owner (cookie set), 201
//	GET  /slugs?slug=…    → SlugStatus
func (h *Handler) registerSignup(r Router) {
	r.POST("/signup", PermPublic, func(c *gin.Context) {
		var in SignupInput
		if !bind(c, &in) {
			return
		}
		u, _, err := SignUp(c.Request.Context(), h.Accounts, h.Tenants, h.Authz, in, c.ClientIP())
		if err != nil {
			httpx.Error(c, err)
			return
		}
		h.startSessionStatus(c, u, http.StatusCreated)
	})
	r.GET("/slugs", PermPublic, func(c *gin.Context) {
		v, err := h.Tenants.SlugAvailability(c.Request.Context(), c.Query("slug"))
		ok(c, http.StatusOK, v, err)
	})
}

// startSessionStatus is startSession answering with status.
func (h *Handler) startSessionStatus(c *gin.Context, u *User, status int) {
	ctx := c.Request.Context()
	token, exp, err := h.Accounts.StartSession(ctx, u.ID, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		httpx.Error(c, err)
		return
	}
	p, err := h.Accounts.SessionPrincipal(ctx, token)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	body, err := h.sessionBody(c, p)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	h.setCookie(c, token, exp)
	c.JSON(status, body)
}
