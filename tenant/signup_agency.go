package tenant

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/httpx"
)

// AgencySignupInput is what an agency gives to open an account and its
// agency: the person, as for a brand, and the agency's name instead of a shop.
type AgencySignupInput struct {
	Email    string `json:"email" binding:"required"`
	Password string `json:"password" binding:"required"`
	Name     string `json:"name" binding:"required"`   // the person signing up
	Agency   string `json:"agency" binding:"required"` // the agency's display name
}

// ShopInput opens one more shop for a signed-in user.
type ShopInput struct {
	Company string `json:"company" binding:"required"` // the brand: the shop's display name
	Slug    string `json:"slug" binding:"required"`    // the shop's address {slug}.{base}
}

// SignUpAgency opens an account for an agency: the user, the agency and the
// user's agency_admin membership in one transaction, so a refused or failed
// sign-up leaves no user without an agency. Validation, the throttle and
// the conflicts are a brand sign-up's (email_taken); a bad agency name is
// invalid_agency with details.field "agency".
func SignUpAgency(ctx context.Context, accounts *Accounts, in AgencySignupInput, ip string) (*User, *Agency, error) {
	var name string
	var a *Agency
	u, err := accounts.signUp(ctx, in.Email, in.Password, in.Name, ip, func() (err error) {
		name, err = agencyName(in.Agency, "agency")
		return err
	}, func(tx *gorm.DB, u *User) (err error) {
		a, err = createAgency(tx, name, u.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return u, a, nil
}

// CreateShop opens a shop owned by the signed-in user p (who may have no
// shop yet, or run an agency and sell a brand of their own), with a brand
// sign-up's validation, throttle and provisioning.
func CreateShop(ctx context.Context, accounts *Accounts, tenants *Service, authz *Authorizer, p *Principal, in ShopInput, ip string) (*Tenant, error) {
	company, slug, err := shopInput(in.Company, in.Slug)
	if err != nil {
		return nil, err
	}
	if err := accounts.signupThrottle(ctx, ip); err != nil {
		return nil, err
	}
	var t *Tenant
	err = accounts.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		t, err = createOwnedShop(ctx, tx, tenants, p.UserID, company, slug, ip, "console")
		return err
	})
	if err != nil {
		return nil, err
	}
	tenants.resolver.Changed(ctx, slugKey(t.Slug))
	authz.Changed(ctx, UserSubject(p.UserID), t.ID)
	return t, nil
}

// registerAgencySignup mounts:
//
//	POST /signup/agency → the session of the new agency admin (cookie set), 201
//	POST /shops         → a new shop of the signed-in user: their session, 201
//
// and the agency home's routes (registerAgencyHome).
func (h *Handler) registerAgencySignup(r Router) {
	r.POST("/signup/agency", PermPublic, func(c *gin.Context) {
		var in AgencySignupInput
		if !bind(c, &in) {
			return
		}
		u, _, err := SignUpAgency(c.Request.Context(), h.Accounts, in, c.ClientIP())
		if err != nil {
			httpx.Error(c, err)
			return
		}
		h.startSessionStatus(c, u, http.StatusCreated)
	})
	r.POST("/shops", PermSignedIn, func(c *gin.Context) {
		var in ShopInput
		if !bind(c, &in) {
			return
		}
		p := PrincipalOf(c)
		if _, err := CreateShop(c.Request.Context(), h.Accounts, h.Tenants, h.Authz, p, in, c.ClientIP()); err != nil {
			httpx.Error(c, err)
			return
		}
		b, err := h.sessionBody(c, p)
		ok(c, http.StatusCreated, b, err)
	})
	h.registerAgencyHome(r)
}
