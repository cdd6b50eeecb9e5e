package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// invalidations is the Redis channel on which every server process hears
// that a tenant's routing changed.
const invalidations = "minishop:tenant:changed"

// negativeTTL bounds how long an unknown host is remembered as unknown.
const negativeTTL = 5 * time.Second

// Resolver finds the tenant of a request's Host. Results (including "no such
// tenant") are cached per process; changes are broadcast over Redis so every
// process drops its copy at once, and the TTL bounds staleness if a broadcast
// is missed.
type Resolver struct {
	db    *gorm.DB
	rdb   *redis.Client
	base  string
	cache *expirable.LRU[string, entry]
	log   *slog.Logger
}

type entry struct {
	t  *Tenant // nil: known not to exist
	at time.Time
}

// NewResolver returns a resolver for hosts under baseDomain. size bounds the
// cache (unknown hosts included, so random Host headers cannot grow memory).
func NewResolver(g *gorm.DB, rdb *redis.Client, baseDomain string, ttl time.Duration, size int, log *slog.Logger) *Resolver {
	return &Resolver{db: g, rdb: rdb, base: strings.ToLower(baseDomain), log: log,
		cache: expirable.NewLRU[string, entry](size, nil, ttl)}
}

func slugKey(slug string) string { return "s:" + slug }
func domainKey(d string) string  { return "d:" + d }

// normalizeHost lower-cases host, drops the port and a trailing dot, and
// checks it is a syntactically valid host name.
func normalizeHost(host string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(host))
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", errs.E(errs.Invalid, "invalid_host", "the Host header is missing or too long")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errs.E(errs.Invalid, "invalid_host", "the Host header is not a valid host name")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", errs.E(errs.Invalid, "invalid_host", "the Host header is not a valid host name")
			}
		}
	}
	return h, nil
}

// KeyOf tells how host is looked up: by slug for {slug}.{base}, by custom
// domain otherwise. The base domain itself and deeper subdomains are no
// storefront.
func (r *Resolver) keyOf(host string) (string, error) {
	h, err := normalizeHost(host)
	if err != nil {
		return "", err
	}
	if sub, ok := strings.CutSuffix(h, "."+r.base); ok {
		if strings.Contains(sub, ".") {
			return "", errNotFound(host)
		}
		return slugKey(sub), nil
	}
	if h == r.base {
		return "", errNotFound(host)
	}
	return domainKey(h), nil
}

func errNotFound(host string) error {
	return errs.E(errs.NotFound, "tenant_not_found", "no shop is served at "+host)
}

// Resolve returns the tenant served at host. Unknown → not_found
// (tenant_not_found); malformed → invalid (invalid_host). Suspended tenants
// are returned; callers decide what a suspension means for them.
func (r *Resolver) Resolve(ctx context.Context, host string) (*Tenant, error) {
	key, err := r.keyOf(host)
	if err != nil {
		return nil, err
	}
	return r.lookup(ctx, key, host)
}

// BySlug returns the tenant with slug through the same cache.
func (r *Resolver) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	s := strings.ToLower(slug)
	if len(s) > 40 || !slugPattern.MatchString(s) {
		return nil, errs.E(errs.NotFound, "tenant_not_found", "no tenant with slug "+slug)
	}
	return r.lookup(ctx, slugKey(s), slug)
}

func (r *Resolver) lookup(ctx context.Context, key, shown string) (*Tenant, error) {
	if e, ok := r.cache.Get(key); ok {
		if e.t == nil {
			if time.Since(e.at) < negativeTTL {
				return nil, errNotFound(shown)
			}
		} else {
			return e.t, nil
		}
	}
	var ts []Tenant
	var q *gorm.DB
	if slug, ok := strings.CutPrefix(key, "s:"); ok {
		q = r.db.WithContext(ctx).Raw(`SELECT * FROM tenants WHERE slug = ?`, slug)
	} else {
		q = r.db.WithContext(ctx).Raw(`SELECT t.* FROM tenant_domains d JOIN tenants t ON t.id = d.tenant_id
			WHERE d.domain = ? AND d.verified_at IS NOT NULL`, strings.TrimPrefix(key, "d:"))
	}
	if err := q.Scan(&ts).Error; err != nil {
		return nil, errs.E(errs.Unavailable, "unavailable", "the shop directory is unavailable; retry shortly")
	}
	if len(ts) == 0 {
		r.cache.Add(key, entry{at: time.Now()})
		return nil, errNotFound(shown)
	}
	t := ts[0]
	r.cache.Add(key, entry{t: &t, at: time.Now()})
	return &t, nil
}

// Changed drops keys here and tells every other process to drop them.
func (r *Resolver) Changed(ctx context.Context, keys ...string) {
	for _, k := range keys {
		r.cache.Remove(k)
	}
	if r.rdb == nil {
		return
	}
	b, _ := json.Marshal(keys)
	if err := r.rdb.Publish(ctx, invalidations, b).Err(); err != nil {
		// The change is committed; other processes catch up within the TTL.
		r.log.Warn("tenant cache: broadcast failed; other processes converge within the cache TTL", "err", err)
	}
}

// Listen applies other processes' changes until ctx ends. Whenever the
// subscription breaks, the whole cache is dropped, since changes may have been
// missed meanwhile.
func (r *Resolver) Listen(ctx context.Context) {
	if r.rdb == nil {
		return
	}
	for ctx.Err() == nil {
		ps := r.rdb.Subscribe(ctx, invalidations)
		if _, err := ps.Receive(ctx); err != nil {
			ps.Close()
			r.cache.Purge()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		r.cache.Purge() // anything may have changed while we were not listening
		for {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				break
			}
			var keys []string
			if json.Unmarshal([]byte(m.Payload), &keys) != nil {
				r.cache.Purge()
				continue
			}
			for _, k := range keys {
				r.cache.Remove(k)
			}
		}
		ps.Close()
		r.cache.Purge()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}
