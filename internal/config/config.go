// Package config reads Minishop's configuration from the environment. Every
// variable is documented in the README's configuration table; the defaults are
// the ones `make run` needs.
package config

import (
	"github.com/alexedwards/argon2id"

	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration. It is read once by main and passed down.
type Config struct {
	DatabaseURL string // owner connection: migrations run as it; servers SET ROLE minishop_app
	RedisURL    string
	HTTPAddr    string
	BaseDomain  string
	MasterKey   []byte // 32 bytes; wraps the per-tenant data keys
	Dev         bool   // dev mode: generated master key, sandbox and queue UI on, relaxed cookies
	LogLevel    slog.Level
	LogFormat   string // "text" or "json"
	DataDir     string

	MasterKeyOld []byte // previous master key during a rotation (optional): opens data keys, never wraps new ones

	PublicURL string // base URL of the admin console, for links in emails

	SandboxAddr string // where `dev`/`sandbox` listen for the sandbox of WeChat's APIs
	SandboxURL  string // how the server reaches the sandbox (test-mode tenants talk to it)
	SandboxSeed []byte // derives sandbox app secrets; stable across restarts
	WeChatAPI   string // live-mode WeChat API base URL

	CustomsAgentURL   string // the customs declaration agent live-mode shops declare through
	CustomsAgentDxpID string // the agent's DXP channel id, named in every message sent through it

	BodyLimit         int64
	RequestTimeout    time.Duration
	ShutdownTimeout   time.Duration
	TenantCacheTTL    time.Duration
	WorkerConcurrency int
	// TaskInFlight caps the tasks of one shop and queue in Redis at once
	// (outbox.Relay.InFlight): the rest wait in Postgres, so no shop queues in
	// front of another.
	TaskInFlight int
	// CatalogCacheMB is the memory budget of the storefront catalog cache
	// of each serving process, in MiB (responses are kept gzip-compressed:
	// about 600 bytes a product detail).
	CatalogCacheMB int

	MediaDir string // uploaded images (content-addressed)

	// CBEC tax rates (decimals) and consumption tax per category.
	TaxVAT, TaxFactor, TaxConsumption string

	// OrderPaymentTimeout is how long an order waits for payment before it
	// closes, as written (shop.ParsePaymentTimeout checks it).
	OrderPaymentTimeout string

	// OrderAutoCompleteDays is how many days after delivery an order
	// completes by itself.
	OrderAutoCompleteDays int

	// PasswordParams overrides the argon2id cost (tests only; nil = the default).
	PasswordParams *argon2id.Params
}

// FromEnv reads the configuration. It reports every malformed variable, not
// just the first. The master key is not required here; see RequireMasterKey.
func FromEnv() (*Config, error) {
	var problems []string
	get := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return v
		}
		return def
	}
	dur := func(k string, def time.Duration) time.Duration {
		v := get(k, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q is not a positive duration such as 30s", k, v))
			return def
		}
		return d
	}
	num := func(k string, def int64) int64 {
		v := get(k, "")
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q is not a positive integer", k, v))
			return def
		}
		return n
	}
	c := &Config{
		DatabaseURL:       get("DATABASE_URL", "postgres://minishop@127.0.0.1:54329/minishop?sslmode=disable"),
		RedisURL:          get("REDIS_URL", "redis://127.0.0.1:63799/0"),
		HTTPAddr:          get("MINISHOP_HTTP_ADDR", ":8080"),
		BaseDomain:        strings.ToLower(strings.TrimSuffix(get("MINISHOP_BASE_DOMAIN", "localhost"), ".")),
		LogFormat:         get("MINISHOP_LOG_FORMAT", "text"),
		DataDir:           get("MINISHOP_DATA_DIR", ".minishop"),
		SandboxAddr:       get("MINISHOP_SANDBOX_ADDR", "127.0.0.1:8090"),
		WeChatAPI:         get("MINISHOP_WECHAT_API_URL", "https://api.weixin.qq.com"),
		BodyLimit:         num("MINISHOP_BODY_LIMIT", 1<<20),
		RequestTimeout:    dur("MINISHOP_REQUEST_TIMEOUT", 30*time.Second),
		ShutdownTimeout:   dur("MINISHOP_SHUTDOWN_TIMEOUT", 20*time.Second),
		TenantCacheTTL:    dur("MINISHOP_TENANT_CACHE_TTL", time.Minute),
		WorkerConcurrency: int(num("MINISHOP_WORKER_CONCURRENCY", 10)),
		CatalogCacheMB:    int(num("MINISHOP_CATALOG_CACHE_MB", 1024)),
	}
	c.SandboxURL = get("MINISHOP_SANDBOX_URL", "http://"+c.SandboxAddr)
	c.MediaDir = get("MINISHOP_MEDIA_DIR", filepath.Join(c.DataDir, "media"))
	c.TaxVAT = get("MINISHOP_TAX_VAT", "0.13")
	c.TaxFactor = get("MINISHOP_TAX_CBEC_FACTOR", "0.7")
	c.TaxConsumption = get("MINISHOP_TAX_CONSUMPTION", "premium_cosmetics=0.15,jewelry=0.10,high_end_watches=0.20")
	c.OrderPaymentTimeout = get("MINISHOP_ORDER_PAYMENT_TIMEOUT", "30m")
	c.TaskInFlight = int(num("MINISHOP_TASK_INFLIGHT", 20))
	c.OrderAutoCompleteDays = int(num("MINISHOP_ORDER_AUTO_COMPLETE_DAYS", 7))
	c.CustomsAgentURL = strings.TrimRight(get("MINISHOP_CUSTOMS_AGENT_URL", ""), "/")
	c.CustomsAgentDxpID = get("MINISHOP_CUSTOMS_AGENT_DXP_ID", "")
	port := ""
	if i := strings.LastIndex(c.HTTPAddr, ":"); i >= 0 && c.HTTPAddr[i+1:] != "80" {
		port = c.HTTPAddr[i:]
	}
	c.PublicURL = strings.TrimRight(get("MINISHOP_PUBLIC_URL", "http://"+c.BaseDomain+port), "/")
	switch strings.ToLower(get("MINISHOP_DEV", "false")) {
	case "1", "true", "yes", "on":
		c.Dev = true
	case "0", "false", "no", "off":
	default:
		problems = append(problems, "MINISHOP_DEV must be true or false")
	}
	switch strings.ToLower(get("MINISHOP_LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		problems = append(problems, "MINISHOP_LOG_LEVEL must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, "MINISHOP_LOG_FORMAT must be text or json")
	}
	if c.BaseDomain == "" || strings.ContainsAny(c.BaseDomain, "/: ") {
		problems = append(problems, "MINISHOP_BASE_DOMAIN must be a bare domain such as shop.example.com")
	}
	if v := get("MINISHOP_MASTER_KEY", ""); v != "" {
		k, err := ParseKey(v)
		if err != nil {
			problems = append(problems, "MINISHOP_MASTER_KEY: "+err.Error())
		}
		c.MasterKey = k
	}
	if v := get("MINISHOP_MASTER_KEY_OLD", ""); v != "" {
		k, err := ParseKey(v)
		if err != nil {
			problems = append(problems, "MINISHOP_MASTER_KEY_OLD: "+err.Error())
		}
		c.MasterKeyOld = k
	}
	if v := get("MINISHOP_SANDBOX_SEED", ""); v != "" {
		c.SandboxSeed = []byte(v)
		if len(v) < 16 {
			problems = append(problems, "MINISHOP_SANDBOX_SEED must be at least 16 characters")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// ParseKey decodes a 32-byte key given as 64 hex characters or standard base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("must be 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)")
}

// LoadOrCreateSecret returns the secret stored in dataDir/name, creating it
// (32 random bytes, hex, mode 0600) on first use. Only dev mode calls it: a
// production deployment sets its secrets explicitly.
func LoadOrCreateSecret(dataDir, name string) ([]byte, error) {
	p := filepath.Join(dataDir, name)
	if b, err := os.ReadFile(p); err == nil {
		return ParseKey(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not end up with different keys.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateSecret(dataDir, name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, f.Sync()
}
