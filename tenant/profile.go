package tenant

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// Profile is a shop's company details and public profile as its staff edit
// them, with where the shop stands in its onboarding.
type Profile struct {
	Slug                  string     `json:"slug"`
	StorefrontHost        string     `json:"storefront_host"` // {slug}.{base}: where the Mini Program calls the storefront API
	DisplayName           string     `json:"display_name"`
	LegalName             string     `json:"legal_name"`
	Country               string     `json:"country"`
	ContactName           string     `json:"contact_name"`
	ContactEmail          string     `json:"contact_email"`
	ContactPhone          string     `json:"contact_phone"`
	LogoURL               *string    `json:"logo_url"`
	LogoImage             *string    `json:"logo_image"`
	Currency              string     `json:"currency"`
	Locales               []string   `json:"locales"`
	DefaultLocale         string     `json:"default_locale"`
	Mode                  string     `json:"mode"`
	OnboardingCompletedAt *time.Time `json:"onboarding_completed_at"`
	Onboarding            Onboarding `json:"onboarding"`
	UpdatedAt             time.Time  `json:"updated_at"`
}

// Onboarding says which steps of getting a shop ready are done, from what is
// stored (never from what the console remembers).
type Onboarding struct {
	Company     bool `json:"company"`      // legal name, country and contact email set
	MiniProgram bool `json:"mini_program"` // live Mini Program credentials saved
	WeChatPay   bool `json:"wechat_pay"`   // live WeChat Pay credentials saved
	Customs     bool `json:"customs"`      // customs registration saved (either mode)
	Warehouse   bool `json:"warehouse"`    // at least one warehouse
	Product     bool `json:"product"`      // at least one product
	Published   bool `json:"published"`    // at least one published product
}

// ProfileInput replaces a shop's profile. LogoURL and LogoImage are
// exclusive: an http(s) URL of the logo, or the hash of an image uploaded
// through POST /images (the storefront then serves it at /api/v1/media/{hash}).
type ProfileInput struct {
	DisplayName         string   `json:"display_name" binding:"required"`
	LegalName           string   `json:"legal_name"`
	Country             string   `json:"country"`
	ContactName         string   `json:"contact_name"`
	ContactEmail        string   `json:"contact_email"`
	ContactPhone        string   `json:"contact_phone"`
	LogoURL             *string  `json:"logo_url"`
	LogoImage           *string  `json:"logo_image"`
	Locales             []string `json:"locales" binding:"required"`
	DefaultLocale       string   `json:"default_locale" binding:"required"`
	OnboardingCompleted bool     `json:"onboarding_completed"` // once set, stays set
}

// ProfileLocales are the languages a shop may offer; zh-CN is always one of
// them, since the Mini Program shows it.
var ProfileLocales = []string{"zh-CN", "en", "zh-TW", "ja", "ko", "fr", "de", "it", "es", "sv", "da", "nl"}

var (
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	phonePattern   = regexp.MustCompile(`^\+?[0-9][0-9 ()\-.]{4,30}$`)
	imageHash      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func fieldErr(field, msg string) error {
	return errs.E(errs.Invalid, "invalid_profile", msg).WithDetails(map[string]string{"field": field})
}

func (in *ProfileInput) validate() error {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.DisplayName == "" || utf8.RuneCountInString(in.DisplayName) > 120 {
		return fieldErr("display_name", "the shop's display name must be 1 to 120 characters")
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"legal_name", &in.LegalName, 200}, {"contact_name", &in.ContactName, 120}} {
		*f.v = strings.TrimSpace(*f.v)
		if utf8.RuneCountInString(*f.v) > f.max {
			return fieldErr(f.name, f.name+" must be at most "+strconv.Itoa(f.max)+" characters")
		}
	}
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if in.Country != "" && !countryPattern.MatchString(in.Country) {
		return fieldErr("country", "the country is a two-letter ISO 3166 code, e.g. SE for Sweden")
	}
	if in.ContactEmail = strings.TrimSpace(in.ContactEmail); in.ContactEmail != "" {
		e, err := NormalizeEmail(in.ContactEmail)
		if err != nil {
			return fieldErr("contact_email", "enter the contact's email address, such as name@example.com")
		}
		in.ContactEmail = e
	}
	if in.ContactPhone = strings.TrimSpace(in.ContactPhone); in.ContactPhone != "" && !phonePattern.MatchString(in.ContactPhone) {
		return fieldErr("contact_phone", "enter the phone number with its country code, e.g. +46 8 123 456")
	}
	if in.LogoURL != nil {
		if *in.LogoURL = strings.TrimSpace(*in.LogoURL); *in.LogoURL == "" {
			in.LogoURL = nil
		}
	}
	if in.LogoImage != nil && *in.LogoImage == "" {
		in.LogoImage = nil
	}
	if in.LogoURL != nil && in.LogoImage != nil {
		return fieldErr("logo_url", "give either a logo URL or an uploaded logo image, not both")
	}
	if in.LogoURL != nil {
		u, err := url.Parse(*in.LogoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(*in.LogoURL) > 500 {
			return fieldErr("logo_url", "the logo URL must be an http(s) address of at most 500 characters")
		}
	}
	if in.LogoImage != nil && !imageHash.MatchString(*in.LogoImage) {
		return fieldErr("logo_image", "upload the logo first (POST …/images) and use the hash it returns")
	}
	if len(in.Locales) == 0 || len(in.Locales) > 6 {
		return fieldErr("locales", "offer 1 to 6 languages")
	}
	seen := map[string]bool{}
	for _, l := range in.Locales {
		if !slices.Contains(ProfileLocales, l) {
			return fieldErr("locales", "languages are among "+strings.Join(ProfileLocales, ", ")+"; "+strconvQuote(l)+" is not")
		}
		if seen[l] {
			return fieldErr("locales", "the language "+l+" appears twice")
		}
		seen[l] = true
	}
	if !seen["zh-CN"] {
		return fieldErr("locales", "zh-CN must be offered: the Mini Program shows it to shoppers in China")
	}
	if !seen[in.DefaultLocale] {
		return fieldErr("default_locale", "the default language must be one of the offered languages")
	}
	return nil
}

type profileRow struct {
	Slug, Name, Mode                                         string
	LegalName, Country, ContactName, ContactEmail            string
	ContactPhone, Currency, DefaultLocale, Locales           string
	LogoURL, LogoImage                                       *string
	OnboardingCompletedAt                                    *time.Time
	UpdatedAt                                                time.Time
	MiniProgram, WeChatPay, Customs, Warehouse, Product, Pub bool
}

// Profile returns the profile of the tenant in ctx.
func (s *Service) Profile(ctx context.Context) (*Profile, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var out *Profile
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		out, err = s.profile(tx, tid)
		return err
	})
	return out, err
}

func (s *Service) profile(tx *gorm.DB, tid int64) (*Profile, error) {
	var r profileRow
	err := tx.Raw(`SELECT t.slug, t.name, t.mode, s.legal_name, s.country, s.contact_name, s.contact_email, s.contact_phone,
		s.currency, s.default_locale, array_to_string(s.locales, ',') AS locales, s.logo_url, s.logo_image,
		s.onboarding_completed_at, s.updated_at,
		EXISTS (SELECT 1 FROM credentials c WHERE c.tenant_id = s.tenant_id AND c.mode = 'live' AND c.kind = 'miniprogram') AS mini_program,
		EXISTS (SELECT 1 FROM credentials c WHERE c.tenant_id = s.tenant_id AND c.mode = 'live' AND c.kind = 'wechatpay') AS we_chat_pay,
		EXISTS (SELECT 1 FROM credentials c WHERE c.tenant_id = s.tenant_id AND c.kind = 'customs') AS customs,
		EXISTS (SELECT 1 FROM warehouses w WHERE w.tenant_id = s.tenant_id) AS warehouse,
		EXISTS (SELECT 1 FROM products p WHERE p.tenant_id = s.tenant_id AND p.status <> 'archived') AS product,
		EXISTS (SELECT 1 FROM products p WHERE p.tenant_id = s.tenant_id AND p.status = 'published') AS pub
		FROM shops s JOIN tenants t ON t.id = s.tenant_id WHERE s.tenant_id = ?`, tid).Take(&r).Error
	if err != nil {
		return nil, db.NotFound(err, "shop_not_found", "this shop has no profile yet")
	}
	p := &Profile{Slug: r.Slug, StorefrontHost: s.storefrontHost(r.Slug), DisplayName: r.Name, LegalName: r.LegalName, Country: r.Country, ContactName: r.ContactName,
		ContactEmail: r.ContactEmail, ContactPhone: r.ContactPhone, LogoURL: r.LogoURL, LogoImage: r.LogoImage,
		Currency: r.Currency, Locales: strings.Split(r.Locales, ","), DefaultLocale: r.DefaultLocale, Mode: r.Mode,
		OnboardingCompletedAt: r.OnboardingCompletedAt, UpdatedAt: r.UpdatedAt}
	p.Onboarding = Onboarding{Company: r.LegalName != "" && r.Country != "" && r.ContactEmail != "",
		MiniProgram: r.MiniProgram, WeChatPay: r.WeChatPay, Customs: r.Customs, Warehouse: r.Warehouse,
		Product: r.Product, Published: r.Pub}
	return p, nil
}

// storefrontHost is the host of a shop's storefront API.
func (s *Service) storefrontHost(slug string) string {
	if s.resolver == nil || s.resolver.base == "" {
		return slug
	}
	return slug + "." + s.resolver.base
}

// SaveProfile validates and replaces the profile of the tenant in ctx (bad
// input: invalid_profile naming the field, and nothing is written). The
// display name is the tenant's name, so the storefront shows it at once on
// every server.
func (s *Service) SaveProfile(ctx context.Context, in ProfileInput) (*Profile, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out *Profile
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		before, err := s.profile(tx, tid)
		if err != nil {
			return err
		}
		logoURL := in.LogoURL
		if in.LogoImage != nil {
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM images WHERE tenant_id = ? AND hash = ?`, tid, *in.LogoImage).Scan(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return fieldErr("logo_image", "no uploaded image has this hash; upload the logo first")
			}
			u := "/api/v1/media/" + *in.LogoImage
			logoURL = &u
		}
		if err := tx.Exec(`UPDATE tenants SET name = ?, updated_at = now() WHERE id = ? AND name <> ?`, in.DisplayName, tid, in.DisplayName).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE shops SET legal_name = ?, country = ?, contact_name = ?, contact_email = ?, contact_phone = ?,
			logo_url = ?, logo_image = ?, locales = ?, default_locale = ?,
			onboarding_completed_at = CASE WHEN ? THEN coalesce(onboarding_completed_at, now()) ELSE onboarding_completed_at END,
			updated_at = now() WHERE tenant_id = ?`,
			in.LegalName, in.Country, in.ContactName, in.ContactEmail, in.ContactPhone, logoURL, in.LogoImage,
			"{"+strings.Join(in.Locales, ",")+"}", in.DefaultLocale, in.OnboardingCompleted, tid).Error; err != nil {
			return err
		}
		if out, err = s.profile(tx, tid); err != nil {
			return err
		}
		return audit(ctx, tx, tid, "shop.profile_updated", "shop", map[string]any{"fields": profileChanges(before, out)})
	})
	if err != nil {
		return nil, err
	}
	s.resolver.Changed(ctx, slugKey(out.Slug))
	return out, nil
}

// profileChanges names the fields that differ (values may be personal data,
// so the audit log keeps only the names).
func profileChanges(a, b *Profile) []string {
	out := []string{}
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	add("display_name", a.DisplayName != b.DisplayName)
	add("legal_name", a.LegalName != b.LegalName)
	add("country", a.Country != b.Country)
	add("contact_name", a.ContactName != b.ContactName)
	add("contact_email", a.ContactEmail != b.ContactEmail)
	add("contact_phone", a.ContactPhone != b.ContactPhone)
	add("logo", str(a.LogoURL) != str(b.LogoURL) || str(a.LogoImage) != str(b.LogoImage))
	add("locales", !slices.Equal(a.Locales, b.Locales))
	add("default_locale", a.DefaultLocale != b.DefaultLocale)
	add("onboarding_completed", (a.OnboardingCompletedAt == nil) != (b.OnboardingCompletedAt == nil))
	return out
}

// registerProfile mounts GET/PUT /tenants/:slug/profile.
func (h *Handler) registerProfile(r Router) {
	r.GET("/profile", "shop:read", func(c *gin.Context) {
		p, err := h.Tenants.Profile(c.Request.Context())
		ok(c, http.StatusOK, p, err)
	})
	r.PUT("/profile", "shop:write", func(c *gin.Context) {
		var in ProfileInput
		if !bind(c, &in) {
			return
		}
		p, err := h.Tenants.SaveProfile(c.Request.Context(), in)
		ok(c, http.StatusOK, p, err)
	})
}
