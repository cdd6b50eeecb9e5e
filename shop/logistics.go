package shop

// Logistics: what the shop needs from the outside to ship, track and tell
// WeChat. Kuaidi100 accounts come from the tenant's logistics credentials
// (kind "logistics": customer id, key, salt) in the tenant's mode; a shop in
// test mode without saved test credentials gets its sandbox account, derived
// by the sandbox like its Mini Program app. WeChat access tokens come from
// one Broker per API base (sandbox, live), shared through Redis.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/wechat"
	"github.com/minishop/minishop/tenant"
)

// LogisticsConfig tunes shipping and tracking.
type LogisticsConfig struct {
	// CallbackBase is the public base URL (MINISHOP_PUBLIC_URL) that
	// Kuaidi100's pushes reach: {CallbackBase}/api/v1/logistics/kuaidi100/{slug}.
	CallbackBase string
	// AutoComplete is how long after delivery an order completes by itself
	// (MINISHOP_ORDER_AUTO_COMPLETE_DAYS, 7 days by default).
	AutoComplete time.Duration
	// Kuaidi100URL is the live Kuaidi100 API base; "" means kuaidi100.DefaultBaseURL.
	Kuaidi100URL string
}

// DefaultAutoComplete is LogisticsConfig.AutoComplete when unset.
const DefaultAutoComplete = 7 * 24 * time.Hour

// logisticsState is the shop's per-process logistics plumbing; its zero
// value is ready.
type logisticsState struct {
	mu       sync.Mutex
	brokers  map[string]*wechat.Broker
	accounts map[int64]kuaidi100.Account // sandbox accounts by tenant
}

var logisticsHTTP = &http.Client{Timeout: 10 * time.Second}

func (s *Service) autoComplete() time.Duration {
	if s.Logistics.AutoComplete > 0 {
		return s.Logistics.AutoComplete
	}
	return DefaultAutoComplete
}

// broker returns the token broker of a WeChat API base.
func (s *Service) broker(base string) *wechat.Broker {
	s.logi.mu.Lock()
	defer s.logi.mu.Unlock()
	if s.logi.brokers == nil {
		s.logi.brokers = map[string]*wechat.Broker{}
	}
	b := s.logi.brokers[base]
	if b == nil {
		opts := wechat.BrokerOptions{Log: s.Log}
		if s.Redis != nil {
			opts.Redis = s.Redis
		}
		b = wechat.NewBroker(wechat.New(base), opts)
		s.logi.brokers[base] = b
	}
	return b
}

// miniProgram returns the tenant's Mini Program credentials and the WeChat
// API base of its mode.
func (s *Service) miniProgram(ctx context.Context) (*tenant.MiniProgram, string, error) {
	mp, err := s.Tenants.MiniProgramCredentials(ctx)
	if err != nil {
		return nil, "", err
	}
	base := s.WeChatAPI
	if mp.Mode != tenant.ModeLive {
		base = s.SandboxURL
	}
	if base == "" {
		return nil, "", errs.Wrap(errors.New("shop: no WeChat API base for mode "+mp.Mode), "wechat")
	}
	return mp, base, nil
}

var errTrackingNotConfigured = errs.E(errs.Conflict, "tracking_not_configured",
	"the shop has no Kuaidi100 credentials for its mode; save them under Settings → Credentials → Logistics")

// kuaidi100For returns the tenant's Kuaidi100 account and client.
func (s *Service) kuaidi100For(ctx context.Context, tid int64) (kuaidi100.Account, *kuaidi100.Client, error) {
	var mode string
	var row struct {
		Public []byte
		Sealed []byte
	}
	var found bool
	err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT mode FROM tenants WHERE id = ?`, tid).Scan(&mode).Error; err != nil {
			return err
		}
		var rows []struct {
			Public []byte
			Sealed []byte
		}
		if err := tx.Raw(`SELECT public, sealed FROM credentials WHERE tenant_id = ? AND mode = ? AND kind = ?`, tid, mode, tenant.KindLogistics).
			Scan(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		row, found = rows[0], true
		return nil
	})
	if err != nil {
		return kuaidi100.Account{}, nil, err
	}
	live := mode == tenant.ModeLive
	base := s.SandboxURL
	if live {
		base = s.Logistics.Kuaidi100URL
		if base == "" {
			base = kuaidi100.DefaultBaseURL
		}
	}
	c := &kuaidi100.Client{BaseURL: base, HTTP: logisticsHTTP}
	if found {
		a, err := s.openLogistics(ctx, tid, mode, row.Public, row.Sealed)
		return a, c, err
	}
	if live {
		return kuaidi100.Account{}, nil, errTrackingNotConfigured
	}
	a, err := s.sandboxKuaidi100(ctx, tid)
	return a, c, err
}

// openLogistics opens a logistics credentials row (public fields in JSON,
// secrets sealed with the tenant key under the vault's credentials purpose).
func (s *Service) openLogistics(ctx context.Context, tid int64, mode string, public, sealed []byte) (kuaidi100.Account, error) {
	var pub, sec map[string]string
	if err := json.Unmarshal(public, &pub); err != nil {
		return kuaidi100.Account{}, fmt.Errorf("logistics credentials of tenant %d: %w", tid, err)
	}
	var plain []byte
	err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		plain, err = s.Keys.Open(ctx, tx, tid, "credentials/"+mode+"/"+tenant.KindLogistics, sealed)
		return err
	})
	if err != nil {
		return kuaidi100.Account{}, fmt.Errorf("opening logistics credentials of tenant %d: %w", tid, err)
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return kuaidi100.Account{}, fmt.Errorf("logistics credentials of tenant %d are not a JSON object", tid)
	}
	return kuaidi100.Account{Customer: pub["kuaidi100_customer"], Key: sec["kuaidi100_key"], Salt: sec["kuaidi100_salt"]}, nil
}

// sandboxKuaidi100 asks the sandbox for the tenant's Kuaidi100 account
// (derived from the sandbox seed, so the same after restarts) and keeps it.
func (s *Service) sandboxKuaidi100(ctx context.Context, tid int64) (kuaidi100.Account, error) {
	s.logi.mu.Lock()
	a, ok := s.logi.accounts[tid]
	s.logi.mu.Unlock()
	if ok {
		return a, nil
	}
	if s.SandboxURL == "" {
		return a, errTrackingNotConfigured
	}
	body, _ := json.Marshal(map[string]string{"key": "tenant:" + strconv.FormatInt(tid, 10)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.SandboxURL, "/")+"/sandbox/v1/kuaidi100/accounts", bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := logisticsHTTP.Do(req)
	if err != nil {
		return a, errs.E(errs.Unavailable, "tracking_unavailable", "the Kuaidi100 sandbox is not reachable")
	}
	defer resp.Body.Close()
	var out struct{ Customer, Key, Salt string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Key == "" {
		return a, errs.E(errs.Unavailable, "tracking_unavailable", "the Kuaidi100 sandbox gave no account")
	}
	a = kuaidi100.Account{Customer: out.Customer, Key: out.Key, Salt: out.Salt}
	s.logi.mu.Lock()
	if s.logi.accounts == nil {
		s.logi.accounts = map[int64]kuaidi100.Account{}
	}
	s.logi.accounts[tid] = a
	s.logi.mu.Unlock()
	return a, nil
}
