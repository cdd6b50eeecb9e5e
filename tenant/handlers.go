package tenant

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// Handler serves the tenant, identity and team routes.
type Handler struct {
	Tenants       *Service
	Accounts      *Accounts
	Team          *Team
	Authz         *Authorizer
	SecureCookies bool // Secure cookies (everywhere but dev mode)
}

// ok writes v as JSON with status, or the error.
func ok(c *gin.Context, status int, v any, err error) {
	if err != nil {
		httpx.Error(c, err)
		return
	}
	if v == nil {
		c.Status(status)
		return
	}
	c.JSON(status, v)
}

func pathID(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		httpx.Error(c, errs.E(errs.NotFound, "not_found", "no such "+name))
		return 0, false
	}
	return id, true
}

// RegisterStorefront mounts the storefront routes (tenant already resolved).
func (h *Handler) RegisterStorefront(rg *gin.RouterGroup) {
	rg.GET("/shop", func(c *gin.Context) {
		s, err := h.Tenants.Shop(c.Request.Context())
		ok(c, http.StatusOK, s, err)
	})
}

// RegisterSession mounts sign-in, the user's own account and agencies, and
// invitations, under /api/admin/v1.
func (h *Handler) RegisterSession(r Router) {
	r.POST("/session", PermPublic, h.signIn)
	h.registerSignup(r)
	r.GET("/session", PermSignedIn, h.session)
	r.DELETE("/session", PermSignedIn, h.signOut)
	r.GET("/session/sessions", PermSignedIn, func(c *gin.Context) {
		ss, err := h.Accounts.Sessions(c.Request.Context(), PrincipalOf(c))
		ok(c, http.StatusOK, gin.H{"sessions": ss}, err)
	})
	r.DELETE("/session/sessions/:id", PermSignedIn, func(c *gin.Context) {
		ok(c, http.StatusNoContent, nil, h.Accounts.RevokeSession(c.Request.Context(), PrincipalOf(c), c.Param("id")))
	})
	r.POST("/session/totp", PermSignedIn, func(c *gin.Context) {
		e, err := h.Accounts.BeginTOTP(c.Request.Context(), PrincipalOf(c).UserID)
		ok(c, http.StatusOK, e, err)
	})
	r.POST("/session/totp/confirm", PermSignedIn, func(c *gin.Context) {
		var in struct {
			Code string `json:"code" binding:"required"`
		}
		if err := httpx.Bind(c, &in); err != nil {
			httpx.Error(c, err)
			return
		}
		codes, err := h.Accounts.ConfirmTOTP(c.Request.Context(), PrincipalOf(c).UserID, in.Code)
		ok(c, http.StatusOK, gin.H{"recovery_codes": codes}, err)
	})
	r.DELETE("/session/totp", PermSignedIn, func(c *gin.Context) {
		var in struct {
			Password string `json:"password" binding:"required"`
		}
		if err := httpx.Bind(c, &in); err != nil {
			httpx.Error(c, err)
			return
		}
		ok(c, http.StatusNoContent, nil, h.Accounts.DisableTOTP(c.Request.Context(), PrincipalOf(c).UserID, in.Password))
	})

	r.GET("/invitations/:token", PermPublic, func(c *gin.Context) {
		info, err := h.Team.InvitationByToken(c.Request.Context(), c.Param("token"))
		ok(c, http.StatusOK, info, err)
	})
	r.POST("/invitations/accept", PermPublic, h.accept)

	r.POST("/agencies", PermSignedIn, func(c *gin.Context) {
		var in struct {
			Name string `json:"name" binding:"required"`
		}
		if err := httpx.Bind(c, &in); err != nil {
			httpx.Error(c, err)
			return
		}
		a, err := h.Team.CreateAgencyFrom(c.Request.Context(), in.Name, PrincipalOf(c).UserID, c.ClientIP())
		ok(c, http.StatusCreated, a, err)
	})
	ag := r.Group("/agencies/:agency_id")
	ag.GET("", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		if !valid {
			return
		}
		v, err := h.Team.Agency(c.Request.Context(), PrincipalOf(c), id)
		ok(c, http.StatusOK, v, err)
	})
	ag.POST("/invitations", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		var in InviteInput
		if !valid || !bind(c, &in) {
			return
		}
		inv, err := h.Team.InviteToAgency(c.Request.Context(), PrincipalOf(c), id, in)
		ok(c, http.StatusCreated, inv, err)
	})
	ag.POST("/access-requests", PermSignedIn, func(c *gin.Context) {
		id, valid := agencyOf(c)
		var in AccessRequest
		if !valid || !bind(c, &in) {
			return
		}
		a, err := h.Team.RequestAccess(c.Request.Context(), PrincipalOf(c), id, in)
		ok(c, http.StatusCreated, a, err)
	})
}

// agencyOf returns the agency in the path if the principal works for it;
// otherwise it answers 404 before looking at anything else in the request.
func agencyOf(c *gin.Context) (int64, bool) {
	id, valid := pathID(c, "agency_id")
	if !valid {
		return 0, false
	}
	if _, err := agencyRole(PrincipalOf(c), id); err != nil {
		httpx.Error(c, err)
		return 0, false
	}
	return id, true
}

// bind decodes the body into v, writing the error response when it fails.
func bind(c *gin.Context, v any) bool {
	if err := httpx.Bind(c, v); err != nil {
		httpx.Error(c, err)
		return false
	}
	return true
}

// SessionBody is what the console knows about the signed-in user.
type SessionBody struct {
	User        *User               `json:"user"`
	Memberships []Membership        `json:"memberships"`
	Agencies    []AgencyRole        `json:"agencies"`
	Clients     []Client            `json:"clients"`
	Permissions map[string][]string `json:"permissions"` // shop slug → what the user may do there
}

func (h *Handler) sessionBody(c *gin.Context, p *Principal) (*SessionBody, error) {
	ctx := c.Request.Context()
	u, err := h.Accounts.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	ms, cs, err := h.Team.Shops(ctx, p)
	if err != nil {
		return nil, err
	}
	b := &SessionBody{User: u, Memberships: ms, Agencies: p.Agencies, Clients: cs, Permissions: map[string][]string{}}
	if b.Agencies == nil {
		b.Agencies = []AgencyRole{}
	}
	add := func(slug, role string) {
		seen := map[string]bool{}
		for _, x := range b.Permissions[slug] {
			seen[x] = true
		}
		for _, x := range h.Authz.Permissions(role) {
			if !seen[x] {
				b.Permissions[slug] = append(b.Permissions[slug], x)
			}
		}
	}
	for _, m := range ms {
		add(m.Tenant.Slug, m.Role)
	}
	for _, cl := range cs {
		add(cl.Tenant.Slug, cl.Role)
	}
	return b, nil
}

func (h *Handler) setCookie(c *gin.Context, token string, exp time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) signIn(c *gin.Context) {
	var in Credentials
	if !bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	u, err := h.Accounts.SignIn(ctx, in, c.ClientIP())
	if err != nil {
		httpx.Error(c, err)
		return
	}
	h.startSession(c, u)
}

func (h *Handler) startSession(c *gin.Context, u *User) {
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
	c.JSON(http.StatusOK, body)
}

func (h *Handler) session(c *gin.Context) {
	b, err := h.sessionBody(c, PrincipalOf(c))
	ok(c, http.StatusOK, b, err)
}

func (h *Handler) signOut(c *gin.Context) {
	if err := h.Accounts.EndSession(c.Request.Context(), PrincipalOf(c)); err != nil {
		httpx.Error(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	c.Status(http.StatusNoContent)
}

func (h *Handler) accept(c *gin.Context) {
	var in AcceptInput
	if !bind(c, &in) {
		return
	}
	p := PrincipalOf(c)
	u, err := h.Team.Accept(c.Request.Context(), p, in)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	if p != nil {
		b, err := h.sessionBody(c, p)
		ok(c, http.StatusOK, b, err)
		return
	}
	h.startSession(c, u)
}

// RegisterAdmin mounts the per-tenant admin routes under /tenants/:slug.
func (h *Handler) RegisterAdmin(r Router) {
	r.GET("", "shop:read", func(c *gin.Context) {
		t, err := h.Tenants.Get(c.Request.Context(), c.Param("slug"))
		ok(c, http.StatusOK, t, err)
	})
	r.GET("/members", "team:read", func(c *gin.Context) {
		ms, err := h.Team.Members(c.Request.Context())
		ok(c, http.StatusOK, gin.H{"members": ms}, err)
	})
	r.PUT("/members/:user_id", "team:write", func(c *gin.Context) {
		id, valid := pathID(c, "user_id")
		var in DecideInput
		if !valid || !bind(c, &in) {
			return
		}
		m, err := h.Team.SetRole(c.Request.Context(), PrincipalOf(c), id, in.Role)
		ok(c, http.StatusOK, m, err)
	})
	r.DELETE("/members/:user_id", "team:write", func(c *gin.Context) {
		id, valid := pathID(c, "user_id")
		if !valid {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Team.RemoveMember(c.Request.Context(), PrincipalOf(c), id))
	})
	r.GET("/invitations", "team:read", func(c *gin.Context) {
		is, err := h.Team.Invitations(c.Request.Context())
		ok(c, http.StatusOK, gin.H{"invitations": is}, err)
	})
	r.POST("/invitations", "team:write", func(c *gin.Context) {
		var in InviteInput
		if !bind(c, &in) {
			return
		}
		inv, err := h.Team.Invite(c.Request.Context(), PrincipalOf(c), in)
		ok(c, http.StatusCreated, inv, err)
	})
	r.DELETE("/invitations/:id", "team:write", func(c *gin.Context) {
		id, valid := pathID(c, "id")
		if !valid {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Team.RevokeInvitation(c.Request.Context(), id))
	})
	r.GET("/tokens", "team:read", func(c *gin.Context) {
		ts, err := h.Tenants.Tokens(c.Request.Context())
		ok(c, http.StatusOK, gin.H{"tokens": ts}, err)
	})
	r.POST("/tokens", "team:write", func(c *gin.Context) {
		var in TokenInput
		if !bind(c, &in) {
			return
		}
		t, err := h.Tenants.CreateToken(c.Request.Context(), in, PrincipalOf(c).UserID)
		ok(c, http.StatusCreated, t, err)
	})
	r.DELETE("/tokens/:id", "team:write", func(c *gin.Context) {
		id, valid := pathID(c, "id")
		if !valid {
			return
		}
		ok(c, http.StatusNoContent, nil, h.Tenants.RevokeToken(c.Request.Context(), id))
	})
	r.GET("/agency-access", "team:read", func(c *gin.Context) {
		as, err := h.Team.AccessRequests(c.Request.Context())
		ok(c, http.StatusOK, gin.H{"agencies": as}, err)
	})
	decide := func(decision string) gin.HandlerFunc {
		return func(c *gin.Context) {
			id, valid := pathID(c, "agency_id")
			if !valid {
				return
			}
			var in DecideInput
			if decision == "approved" && !bind(c, &in) {
				return
			}
			a, err := h.Team.DecideAccess(c.Request.Context(), PrincipalOf(c), id, decision, in.Role)
			ok(c, http.StatusOK, a, err)
		}
	}
	r.POST("/agency-access/:agency_id/approve", "team:write", decide("approved"))
	r.POST("/agency-access/:agency_id/decline", "team:write", decide("declined"))
	r.POST("/agency-access/:agency_id/revoke", "team:write", decide("revoked"))
	r.GET("/audit", "audit:read", h.audit)
	h.registerCredentials(r)
	h.registerProfile(r)
}

func (h *Handler) audit(c *gin.Context) {
	f := AuditFilter{Action: c.Query("action"), ActorKind: c.Query("actor_kind"), ActorID: c.Query("actor_id")}
	var err error
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be a number from 1 to 200"))
			return
		}
	}
	if v := c.Query("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_cursor", "before must be an entry id from a previous page"))
			return
		}
	}
	for _, q := range []struct {
		name string
		dst  **time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(q.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_time", q.name+" must be an RFC 3339 time such as 2026-01-31T00:00:00Z"))
				return
			}
			*q.dst = &t
		}
	}
	es, next, err := h.Tenants.Audit(c.Request.Context(), f)
	page := gin.H{"entries": es, "next_before": nil}
	if next > 0 {
		page["next_before"] = next
	}
	ok(c, http.StatusOK, page, err)
}

// RegisterPlatform mounts the operator routes under /platform.
func (h *Handler) RegisterPlatform(r Router) {
	r.GET("/tenants", PermPlatform, h.list)
	r.POST("/tenants", PermPlatform, func(c *gin.Context) {
		var in CreateInput
		if !bind(c, &in) {
			return
		}
		t, err := h.Tenants.Create(c.Request.Context(), in)
		ok(c, http.StatusCreated, t, err)
	})
	r.GET("/tenants/:slug", PermPlatform, func(c *gin.Context) {
		t, err := h.Tenants.Get(c.Request.Context(), c.Param("slug"))
		ok(c, http.StatusOK, t, err)
	})
	r.POST("/tenants/:slug/suspend", PermPlatform, h.setStatus(Suspended))
	r.POST("/tenants/:slug/resume", PermPlatform, h.setStatus(Active))
	r.POST("/tenants/:slug/domains", PermPlatform, func(c *gin.Context) {
		var in domainInput
		if !bind(c, &in) {
			return
		}
		d, err := h.Tenants.AddDomain(c.Request.Context(), c.Param("slug"), in.Domain, in.Verified)
		ok(c, http.StatusCreated, d, err)
	})
}

func (h *Handler) list(c *gin.Context) {
	var in ListInput
	var err error
	if v := c.Query("after"); v != "" {
		if in.After, err = strconv.ParseInt(v, 10, 64); err != nil || in.After < 0 {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_cursor", "after must be a tenant id from a previous page"))
			return
		}
	}
	if v := c.Query("limit"); v != "" {
		if in.Limit, err = strconv.Atoi(v); err != nil || in.Limit < 1 {
			httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be a number from 1 to 200"))
			return
		}
	}
	ts, next, err := h.Tenants.List(c.Request.Context(), in)
	page := gin.H{"tenants": ts, "next_after": nil}
	if next > 0 {
		page["next_after"] = next
	}
	ok(c, http.StatusOK, page, err)
}

func (h *Handler) setStatus(st Status) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := h.Tenants.SetStatus(c.Request.Context(), c.Param("slug"), st)
		ok(c, http.StatusOK, t, err)
	}
}

type domainInput struct {
	Domain   string `json:"domain" binding:"required"`
	Verified bool   `json:"verified"`
}
