// Package tenant is about brands (tenants): creating and suspending them,
// finding the tenant of a request (from the Host for the storefront, from the
// path for the admin API), provisioning their defaults and keeping their
// credentials.
package tenant

import (
	"regexp"
	"strings"
	"time"

	"github.com/minishop/minishop/internal/errs"
)

// Status of a tenant. A suspended tenant's storefront answers 403.
type Status string

// Tenant statuses.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
)

// Tenant is a brand's shop.
type Tenant struct {
	ID            int64      `json:"id"`
	Slug          string     `json:"slug"`
	Name          string     `json:"name"`
	Status        Status     `json:"status"`
	Mode          string     `json:"mode"` // "test" (sandbox) until live credentials are saved, then "live"
	ProvisionedAt *time.Time `json:"provisioned_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Shop is the public profile a Mini Program shows.
type Shop struct {
	Slug          string   `json:"slug"`
	Name          string   `json:"name"`
	LogoURL       *string  `json:"logo_url"`
	Currency      string   `json:"currency"`
	DefaultLocale string   `json:"default_locale"`
	Locales       []string `json:"locales"`
	Mode          string   `json:"mode"` // "test" until live credentials exist
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// reserved slugs name hosts of the platform itself or invite confusion.
var reserved = map[string]bool{
	"www": true, "admin": true, "api": true, "sandbox": true, "app": true, "apps": true,
	"static": true, "assets": true, "cdn": true, "mail": true, "smtp": true, "status": true,
	"platform": true, "console": true, "dashboard": true, "help": true, "support": true,
	"docs": true, "blog": true, "minishop": true, "auth": true, "login": true, "signup": true,
	"billing": true, "pay": true, "wechat": true, "weixin": true, "test": true, "dev": true,
	"staging": true, "internal": true, "root": true, "system": true, "localhost": true,
}

// ValidateSlug checks a slug: 3–40 lowercase letters, digits and hyphens, not
// starting or ending with a hyphen, no "--", not reserved.
func ValidateSlug(s string) error {
	bad := func(msg string) error {
		return errs.E(errs.Invalid, "invalid_slug", msg).WithDetails(map[string]string{"field": "slug"})
	}
	switch {
	case len(s) < 3 || len(s) > 40:
		return bad("slug must be 3 to 40 characters long")
	case !slugPattern.MatchString(s):
		return bad("slug may contain only lowercase letters a-z, digits and hyphens, and must start and end with a letter or digit")
	case strings.Contains(s, "--"):
		return bad("slug must not contain two hyphens in a row")
	case reserved[s]:
		return bad("slug " + s + " is reserved; choose another")
	}
	return nil
}

// ValidateName checks a display name.
func ValidateName(n string) error {
	n = strings.TrimSpace(n)
	if n == "" || len([]rune(n)) > 120 {
		return errs.E(errs.Invalid, "invalid_name", "name must be 1 to 120 characters").WithDetails(map[string]string{"field": "name"})
	}
	return nil
}
