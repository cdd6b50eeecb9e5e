package wechat

// The access token broker. WeChat wants one token source per AppID: every
// fetch of a classic token invalidates the previous one, a forced stable
// token does too, and both count against daily quotas. The failure modes it
// is built against (wire-format reference §7, items 7 and 8): several
// processes fetching their own tokens and invalidating each other's, and a
// Redis outage turning every request into a fetch until the daily quota is
// gone.
//
// The shared copy lives in Redis under the AppID. A process that finds it
// missing or about to expire takes a lock (SET NX PX with a random value,
// released by a compare-and-delete script, so a holder that overran its TTL
// cannot free someone else's lock) and fetches; the others keep using the
// current token while it is still valid, or poll Redis briefly for the new
// one. Every process also keeps the last token it saw. When Redis fails, the
// broker stops asking it for a while and falls back to that local copy with
// one fetch in flight per AppID per process; when Redis comes back empty, the
// first process to notice puts its local token back instead of fetching.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// BrokerOptions tune a Broker. Zero values take the defaults given.
type BrokerOptions struct {
	// Redis holds the token shared by every process; nil keeps tokens per
	// process (tests, tools).
	Redis redis.UniversalClient
	// Log receives one line per token fetch and per Redis outage; never a
	// token or a secret. nil discards.
	Log *slog.Logger
	// Now is the clock used for token lifetimes; nil means time.Now.
	Now func() time.Time
	// RefreshBefore is how long before expiry a token is renewed (4 min).
	// WeChat renews a stable token 5 minutes before expiry, so asking inside
	// that window gets the new token rather than the old one again.
	RefreshBefore time.Duration
	// LockTTL bounds how long one process may hold the refresh lock (15 s,
	// more than the client's 10 s timeout).
	LockTTL time.Duration
	// Poll is how often a process waiting for another's refresh looks at
	// Redis again (50 ms).
	Poll time.Duration
	// Wait is how long a caller waits for another process's refresh before
	// giving up with ErrUnavailable (20 s).
	Wait time.Duration
	// RedisBackoff is how long Redis is left alone after it failed (5 s):
	// calls in that time use the local copy at once.
	RedisBackoff time.Duration
	// ForceGap is the least time between two forced refreshes of one AppID
	// (30 s, as WeChat enforces; a faster force would not refresh anyway).
	ForceGap time.Duration
}

// Broker hands out WeChat access tokens (getStableAccessToken), one shared
// token per AppID across all processes. Create it with NewBroker; it is safe
// for concurrent use. Use one Broker per WeChat API base URL (the sandbox and
// the real service have separate caches).
type Broker struct {
	client *Client
	rdb    redis.UniversalClient
	log    *slog.Logger
	now    func() time.Time
	o      BrokerOptions
	ns     string

	mu        sync.Mutex
	apps      map[string]*localApp
	downUntil atomic.Int64 // unix nanoseconds (wall clock) until which Redis is not asked
}

// localApp is what one process knows about one AppID.
type localApp struct {
	gate  chan struct{} // one fetch at a time in this process when Redis is down
	entry *tokenEntry   // guarded by Broker.mu
}

// tokenEntry is the cached token, as stored in Redis (JSON).
type tokenEntry struct {
	Token   string `json:"t"`
	Expires int64  `json:"exp"`              // unix ms, by the broker's clock
	Forced  int64  `json:"forced,omitempty"` // unix ms of the last forced refresh
}

func (e *tokenEntry) expires() time.Time { return time.UnixMilli(e.Expires) }

// NewBroker returns a broker fetching tokens through c.
func NewBroker(c *Client, o BrokerOptions) *Broker {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RefreshBefore, 4*time.Minute)
	def(&o.LockTTL, 15*time.Second)
	def(&o.Poll, 50*time.Millisecond)
	def(&o.Wait, 20*time.Second)
	def(&o.RedisBackoff, 5*time.Second)
	def(&o.ForceGap, 30*time.Second)
	b := &Broker{client: c, rdb: o.Redis, log: o.Log, now: o.Now, o: o, apps: map[string]*localApp{}}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	sum := sha256.Sum256([]byte(c.BaseURL))
	b.ns = hex.EncodeToString(sum[:4])
	return b
}

// Token returns a valid access token for the app, fetching one only when no
// process has a fresh one.
func (b *Broker) Token(ctx context.Context, appID, secret string) (string, error) {
	return b.get(ctx, appID, secret, "")
}

// Do calls fn with a valid access token. If fn's error says WeChat rejected
// the token (IsTokenExpired: 40001, 40014, 42001), the broker replaces it
// (one forced refresh shared by all callers that held the same token) and
// calls fn once more; fn must therefore be safe to repeat. Any other error
// from fn is returned as it is.
func (b *Broker) Do(ctx context.Context, appID, secret string, fn func(token string) error) error {
	tok, err := b.get(ctx, appID, secret, "")
	if err != nil {
		return err
	}
	err = fn(tok)
	if !IsTokenExpired(err) {
		return err
	}
	fresh, rerr := b.get(ctx, appID, secret, tok)
	if rerr != nil {
		return fmt.Errorf("wechat: the access token was rejected (%v) and replacing it failed: %w", err, rerr)
	}
	if fresh == tok {
		// Refreshed moments ago and rejected again: another refresh now
		// would not help and would spend the daily quota.
		return err
	}
	return fn(fresh)
}

// key names the shared token. It carries the API base (sandbox and WeChat
// never share a token) and a digest of the secret, so only a caller holding
// the app's current secret gets its token from the cache.
func (b *Broker) key(appID, secret string) string {
	sum := sha256.Sum256([]byte("minishop/wechat-token/" + appID + "\x00" + secret))
	return "minishop:wechat:token:" + b.ns + ":" + appID + ":" + hex.EncodeToString(sum[:6])
}

// usable reports whether e answers a request. Without stale, e must be
// fresh (outside the refresh window); with stale (a token WeChat rejected),
// e must be another token that has not expired.
func (b *Broker) usable(e *tokenEntry, stale string, now time.Time) bool {
	if e == nil || e.Token == "" {
		return false
	}
	if stale != "" {
		return e.Token != stale && now.Before(e.expires())
	}
	return now.Before(e.expires().Add(-b.o.RefreshBefore))
}

func (b *Broker) get(ctx context.Context, appID, secret, stale string) (string, error) {
	key := b.key(appID, secret)
	if b.rdb != nil && time.Now().UnixNano() >= b.downUntil.Load() {
		tok, err := b.viaRedis(ctx, key, appID, secret, stale)
		var re *redisError
		if !errors.As(err, &re) {
			return tok, err
		}
		if ctx.Err() != nil {
			return "", unavailable("access_token", "waiting for Redis", ctx.Err())
		}
		b.redisDown(re.err)
	}
	return b.viaLocal(ctx, key, appID, secret, stale)
}

// redisError marks a failure to talk to Redis, as opposed to WeChat.
type redisError struct{ err error }

func (e *redisError) Error() string { return "redis: " + e.err.Error() }
func (e *redisError) Unwrap() error { return e.err }

func (b *Broker) redisDown(err error) {
	until := time.Now().Add(b.o.RedisBackoff).UnixNano()
	if old := b.downUntil.Swap(until); old < time.Now().UnixNano() {
		b.log.Warn("wechat: token cache unreachable; using this process's copy", "err", err, "retry_in", b.o.RedisBackoff)
	}
}

var unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`)

func (b *Broker) viaRedis(ctx context.Context, key, appID, secret, stale string) (string, error) {
	lockKey := key + ":lock"
	var v [16]byte
	_, _ = rand.Read(v[:])
	lockVal := hex.EncodeToString(v[:])
	deadline := time.Now().Add(b.o.Wait)
	for {
		e, err := b.load(ctx, key)
		if err != nil {
			return "", err
		}
		now := b.now()
		if b.usable(e, stale, now) {
			b.remember(key, e)
			return e.Token, nil
		}
		ok, err := b.rdb.SetNX(ctx, lockKey, lockVal, b.o.LockTTL).Result()
		if err != nil {
			return "", &redisError{err}
		}
		if ok {
			tok, err := b.refreshLocked(ctx, key, appID, secret, stale)
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if uerr := unlockScript.Run(uctx, b.rdb, []string{lockKey}, lockVal).Err(); uerr != nil {
				// The lock expires by itself within LockTTL.
				b.log.Warn("wechat: releasing the token refresh lock", "appid", appID, "err", uerr)
			}
			cancel()
			return tok, err
		}
		// Another process is refreshing. A token that has not expired yet
		// still works in the meantime.
		if stale == "" && e != nil && now.Before(e.expires()) {
			return e.Token, nil
		}
		if time.Now().After(deadline) {
			return "", unavailable("access_token", "another process has held the token refresh lock for too long", nil)
		}
		select {
		case <-ctx.Done():
			return "", unavailable("access_token", "waiting for another process's token refresh", ctx.Err())
		case <-time.After(b.o.Poll):
		}
	}
}

// refreshLocked runs under the Redis lock: it looks once more (the previous
// holder may just have stored a token), puts this process's copy back if
// Redis lost its own, and only then asks WeChat.
func (b *Broker) refreshLocked(ctx context.Context, key, appID, secret, stale string) (string, error) {
	e, err := b.load(ctx, key)
	if err != nil {
		return "", err
	}
	now := b.now()
	if b.usable(e, stale, now) {
		b.remember(key, e)
		return e.Token, nil
	}
	if l := b.local(key); e == nil && b.usable(l, stale, now) {
		if err := b.store(ctx, key, l, now); err != nil {
			return "", err
		}
		return l.Token, nil
	}
	prev := e
	if l := b.local(key); prev == nil || (l != nil && l.Forced > prev.Forced) {
		prev = l
	}
	ne, err := b.fetch(ctx, appID, secret, stale, prev, now)
	if err != nil {
		return "", err
	}
	if ne == prev {
		return ne.Token, nil // a forced refresh was not due
	}
	b.remember(key, ne)
	if err := b.store(ctx, key, ne, now); err != nil {
		// The token is good; only sharing it failed.
		var re *redisError
		if errors.As(err, &re) {
			b.redisDown(re.err)
		}
	}
	return ne.Token, nil
}

// viaLocal serves from this process's copy, with one fetch per AppID in
// flight at a time.
func (b *Broker) viaLocal(ctx context.Context, key, appID, secret, stale string) (string, error) {
	la := b.app(key)
	select {
	case la.gate <- struct{}{}:
	case <-ctx.Done():
		return "", unavailable("access_token", "waiting for this process's token refresh", ctx.Err())
	}
	defer func() { <-la.gate }()
	e := b.local(key)
	now := b.now()
	if b.usable(e, stale, now) {
		return e.Token, nil
	}
	ne, err := b.fetch(ctx, appID, secret, stale, e, now)
	if err != nil {
		return "", err
	}
	b.remember(key, ne)
	return ne.Token, nil
}

// fetch asks WeChat: a normal call when the token is missing or about to
// expire, a forced one when stale was rejected. A forced refresh within
// ForceGap of the previous one is not made; prev (holding the token just
// fetched) is returned instead.
func (b *Broker) fetch(ctx context.Context, appID, secret, stale string, prev *tokenEntry, now time.Time) (*tokenEntry, error) {
	force := stale != ""
	var forced int64
	if prev != nil {
		forced = prev.Forced
	}
	if force && forced != 0 && now.Sub(time.UnixMilli(forced)) < b.o.ForceGap && prev.Token != "" {
		b.log.Warn("wechat: access token rejected again right after a forced refresh; not forcing another", "appid", appID)
		return prev, nil
	}
	t, err := b.client.StableToken(ctx, appID, secret, force)
	if err != nil {
		return nil, err
	}
	if force {
		forced = now.UnixMilli()
	}
	b.log.Info("wechat: access token fetched", "appid", appID, "force_refresh", force, "expires_in", t.ExpiresIn)
	return &tokenEntry{Token: t.AccessToken, Expires: now.Add(t.ExpiresIn).UnixMilli(), Forced: forced}, nil
}

func (b *Broker) load(ctx context.Context, key string) (*tokenEntry, error) {
	raw, err := b.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, &redisError{err}
	}
	var e tokenEntry
	if json.Unmarshal(raw, &e) != nil {
		return nil, nil // unreadable: treated as missing and overwritten
	}
	return &e, nil
}

func (b *Broker) store(ctx context.Context, key string, e *tokenEntry, now time.Time) error {
	ttl := e.expires().Sub(now)
	if ttl <= 0 {
		return nil
	}
	raw, _ := json.Marshal(e)
	if err := b.rdb.Set(ctx, key, raw, ttl).Err(); err != nil {
		return &redisError{err}
	}
	return nil
}

func (b *Broker) app(key string) *localApp {
	b.mu.Lock()
	defer b.mu.Unlock()
	la := b.apps[key]
	if la == nil {
		la = &localApp{gate: make(chan struct{}, 1)}
		b.apps[key] = la
	}
	return la
}

func (b *Broker) local(key string) *tokenEntry {
	la := b.app(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	return la.entry
}

func (b *Broker) remember(key string, e *tokenEntry) {
	la := b.app(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	c := *e
	la.entry = &c
}
