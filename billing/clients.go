package billing

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// CredentialSource is where tenants' WeChat Pay accounts come from
// (tenant.Service). Version must be cheap: it is read on every call.
type CredentialSource interface {
	WeChatPayVersion(ctx context.Context) (mode, version string, err error)
	WeChatPayCredentials(ctx context.Context) (mode string, c wechatpay.Credentials, appID, version string, err error)
}

// Clients builds and caches one WeChat Pay client per tenant. A cached
// client is used while the tenant's credentials keep the version it was
// built from; a saved, rotated or deleted set (or a switch between test and
// live) gives a new version and a new client. Safe for concurrent use.
type Clients struct {
	Source CredentialSource
	// SandboxURL is where test-mode clients send requests.
	SandboxURL string
	// LiveURL overrides WeChat Pay's host for live clients (empty: WeChat
	// Pay, or WeChat Pay Global for global merchants).
	LiveURL string
	HTTP    *http.Client

	mu    sync.Mutex
	cache map[int64]cachedClient
}

type cachedClient struct {
	version string
	client  *wechatpay.Client
}

// ModeTest is the tenant mode whose clients talk to the sandbox.
const ModeTest = "test"

// Client returns the client of the tenant in ctx. conflict
// payments_not_configured without credentials; an internal error when the
// stored set cannot make a client (it passed validation when saved, so
// this means a bug or a tampered row).
func (cs *Clients) Client(ctx context.Context) (*wechatpay.Client, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.Wrap(db.ErrNoTenant, "wechat pay client")
	}
	_, version, err := cs.Source.WeChatPayVersion(ctx)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	c, hit := cs.cache[tid]
	cs.mu.Unlock()
	if hit && c.version == version {
		return c.client, nil
	}
	mode, cred, appID, version, err := cs.Source.WeChatPayCredentials(ctx)
	if err != nil {
		return nil, err
	}
	base := cs.LiveURL
	if mode == ModeTest {
		base = cs.SandboxURL
	}
	cfg, err := cred.Config(base, appID)
	if err != nil {
		return nil, errs.Wrap(err, "wechat pay credentials of tenant")
	}
	cfg.HTTP = cs.HTTP
	cl, err := wechatpay.New(cfg)
	if err != nil {
		return nil, errs.Wrap(err, "wechat pay credentials of tenant")
	}
	cs.mu.Lock()
	if cs.cache == nil {
		cs.cache = map[int64]cachedClient{}
	}
	cs.cache[tid] = cachedClient{version: version, client: cl}
	cs.mu.Unlock()
	return cl, nil
}

// DefaultHTTP is the HTTP client of WeChat Pay calls: a bounded timeout, no
// redirects (a redirect would carry the Authorization elsewhere), and
// enough idle connections per host for a busy checkout.
func DefaultHTTP() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 15 * time.Second, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
