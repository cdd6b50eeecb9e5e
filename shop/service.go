package shop

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/vault"
	"github.com/minishop/minishop/tenant"
)

// Deps are what the shop needs from the rest of Minishop.
type Deps struct {
	DB           *gorm.DB
	Redis        *redis.Client
	Keys         *vault.Keyring
	Platform     *vault.PlatformKeys // platform-wide secrets (customer tokens, buyer ID hash)
	Tenants      *tenant.Service
	Rates        TaxRates
	Media        Storage // where uploaded images live
	Log          *slog.Logger
	SandboxURL   string          // WeChat API base for tenants in test mode
	WeChatAPI    string          // WeChat API base for tenants in live mode
	CustomsAgent CustomsAgent    // the declaration agent of live-mode shops
	Checkout     OrderConfig     // checkout limits and the payment deadline
	Payments     PaymentGateway  // the payment provider; nil: orders cannot be paid yet (503)
	Logistics    LogisticsConfig // shipping, tracking and the WeChat shipping-information upload
}

// Service is the shop: catalog administration, the storefront's catalog
// reads, and the Mini Program's customers. Its methods take the tenant from
// the context and fail closed without one.
type Service struct {
	Deps

	wxClients wxClientsSlot // the tenant's WeChat Pay client, for payment declarations

	cache CatalogCache
	pay   paymentSlot
	logi  logisticsState
}

// CatalogCache is told when a tenant's catalog changed, so storefront reads
// never serve what was there before an edit that has returned.
type CatalogCache interface {
	Invalidate(ctx context.Context, tenantID int64)
}

type noCache struct{}

func (noCache) Invalidate(context.Context, int64) {}

// New returns the shop service.
func New(d Deps) *Service {
	if d.Rates.VAT == nil {
		d.Rates = DefaultTaxRates()
	}
	s := &Service{Deps: d, cache: noCache{}}
	s.cache = newCatalogCache(s)
	s.SetPaymentGateway(d.Payments)
	return s
}
