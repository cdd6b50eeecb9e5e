package tenant

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	var company, slug string
	var t *Tenant
	u, err := accounts.signUp(ctx, in.Email, in.Password, in.Name, ip, func() (err error) {
		company, slug, err = shopInput(in.Company, in.Slug)
		return err
	}, func(tx *gorm.DB, u *User) (err error) {
		t, err = createOwnedShop(ctx, tx, tenants, u.ID, company, slug, ip, "signup")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	tenants.resolver.Changed(ctx, slugKey(t.Slug))
	authz.Changed(ctx, UserSubject(u.ID), t.ID)
	return u, t, nil
}

// signUp is what every sign-up does: it validates the person, then the
// rest of the input (check), counts the attempt against the throttle, and
// creates the user and what add writes in one transaction, so a refusal or
// a failure leaves nothing behind.
func (a *Accounts) signUp(ctx context.Context, email, password, name, ip string, check func() error, add func(tx *gorm.DB, u *User) error) (*User, error) {
	email, name, err := signupPerson(email, password, name)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		return nil, err
	}
	if err := a.signupThrottle(ctx, ip); err != nil {
		return nil, err
	}
	var u *User
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = a.signupUser(ctx, tx, email, name, password); err != nil {
			return err
		}
		return add(tx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// signupPerson validates the person of a sign-up (brand or agency) and
// returns the normalised email and name; errors name the field.
func signupPerson(email, password, name string) (string, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", "", err
	}
	if err := ValidatePassword(password); err != nil {
		return "", "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 120 || hasControl(name) {
		return "", "", errs.E(errs.Invalid, "invalid_name", "your name must be 1 to 120 characters").WithDetails(map[string]string{"field": "name"})
	}
	return email, name, nil
}

// shopInput validates the brand name and slug of a new shop.
func shopInput(company, slug string) (string, string, error) {
	company = strings.TrimSpace(company)
	if company == "" || utf8.RuneCountInString(company) > 120 || hasControl(company) {
		return "", "", errs.E(errs.Invalid, "invalid_company", "the brand name must be 1 to 120 characters").WithDetails(map[string]string{"field": "company"})
	}
	slug = strings.ToLower(strings.TrimSpace(slug))
	if err := ValidateSlug(slug); err != nil {
		return "", "", err
	}
	return company, slug, nil
}

// hasControl reports whether s holds a control character (a NUL byte would
// otherwise reach Postgres, which refuses it with an internal error).
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// signupUser creates the user of a sign-up in tx; a taken email is
// email_taken naming the field.
func (a *Accounts) signupUser(ctx context.Context, tx *gorm.DB, email, name, password string) (*User, error) {
	u, err := a.createUser(ctx, tx, email, name, password)
	if errs.Is(err, errs.Conflict) {
		return nil, errs.E(errs.Conflict, "email_taken", "an account with this email already exists; sign in instead").
			WithDetails(map[string]string{"field": "email"})
	}
	return u, err
}

// createOwnedShop creates a shop in tx (through Service.Create, whose own
// transaction nests as a savepoint, so provisioning goes through the outbox)
// with userID as its owner, and records how the owner came (via).
func createOwnedShop(ctx context.Context, tx *gorm.DB, tenants *Service, userID int64, company, slug, ip, via string) (*Tenant, error) {
	actx := scope.WithActor(ctx, Actor{Kind: "user", ID: strconv.FormatInt(userID, 10), IP: ip})
	svc := *tenants
	svc.db = tx
	t, err := svc.Create(actx, CreateInput{Slug: slug, Name: company})
	if err != nil {
		return nil, err
	}
	if err := tx.Exec(`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, ?)`, t.ID, userID, RoleOwner).Error; err != nil {
		return nil, err
	}
	return t, auditIn(actx, tx, t.ID, "member.added", "user:"+strconv.FormatInt(userID, 10), map[string]any{"role": RoleOwner, "via": via})
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
	h.registerAgencySignup(r)
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
