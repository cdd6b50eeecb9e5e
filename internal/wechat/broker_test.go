package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/wechat"
)

func redisFor(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	// Fail fast when the server is gone, as the tests stop it on purpose.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = 300*time.Millisecond, time.Second, time.Second, -1
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// slowClient reaches e's sandbox with every reply delayed, so concurrent
// callers really overlap with a fetch in flight.
func slowClient(t *testing.T, e *env, delay time.Duration) *wechat.Client {
	t.Helper()
	h := e.sb.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return wechat.New(ts.URL)
}

func (e *env) broker(c *wechat.Client, rdb redis.UniversalClient) *wechat.Broker {
	if c == nil {
		c = e.client
	}
	return wechat.NewBroker(c, wechat.BrokerOptions{Redis: rdb, Now: e.clock.Now, Poll: 10 * time.Millisecond, RedisBackoff: 100 * time.Millisecond})
}

// api stands for a WeChat API that takes an access_token: it answers as
// WeChat would for the token it is given.
func (e *env) api(calls *atomic.Int64) func(string) error {
	return func(tok string) error {
		if calls != nil {
			calls.Add(1)
		}
		if _, code := e.sb.CheckAccessToken(tok); code != 0 {
			return &wechat.Error{Code: code, Msg: "rejected rid: 00000000-00000000-00000000"}
		}
		return nil
	}
}

// concurrently runs n callers released at once and returns their errors.
func concurrently(n int, call func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestBrokerColdCacheFetchesOnceAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	url := testenv.RedisURL(t)
	slow := slowClient(t, e, 150*time.Millisecond)
	// Four processes, each with its own Redis connection pool, five callers each.
	var brokers []*wechat.Broker
	for range 4 {
		brokers = append(brokers, e.broker(slow, redisFor(t, url)))
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	errs := concurrently(20, func(i int) error {
		return brokers[i%4].Do(context.Background(), e.appID, e.secret, func(tok string) error {
			mu.Lock()
			seen[tok] = true
			mu.Unlock()
			return e.api(nil)(tok)
		})
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.TokenFetches(e.appID); n != 1 {
		t.Fatalf("20 concurrent callers on a cold cache made %d token fetches, want 1", n)
	}
	if len(seen) != 1 {
		t.Fatalf("callers got %d different tokens, want 1", len(seen))
	}
	// Warm: no more fetches.
	for _, b := range brokers {
		if _, err := b.Token(context.Background(), e.appID, e.secret); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.TokenFetches(e.appID); n != 1 {
		t.Fatalf("warm cache: %d fetches", n)
	}
}

func TestBrokerRefreshesOnceWhenTheTokenIsRejected(t *testing.T) {
	e := newEnv(t)
	url := testenv.RedisURL(t)
	b1, b2 := e.broker(nil, redisFor(t, url)), e.broker(nil, redisFor(t, url))
	ctx := context.Background()
	old, err := b1.Token(ctx, e.appID, e.secret)
	if err != nil {
		t.Fatal(err)
	}

	// The token dies (42001): one forced refresh, one retry.
	e.control("/sandbox/v1/expire-token", map[string]any{"appid": e.appID})
	var calls atomic.Int64
	if err := b1.Do(ctx, e.appID, e.secret, e.api(&calls)); err != nil {
		t.Fatalf("Do after expiry: %v", err)
	}
	if calls.Load() != 2 || e.sb.TokenFetches(e.appID) != 2 {
		t.Fatalf("calls %d, fetches %d; want 2 and 2", calls.Load(), e.sb.TokenFetches(e.appID))
	}
	fresh, _ := b2.Token(ctx, e.appID, e.secret)
	if fresh == old {
		t.Fatal("the other process still hands out the rejected token")
	}

	// Invalidated elsewhere (40001) while many callers hold it: they all
	// see the rejection, and still only one of them refreshes.
	e.clock.Advance(time.Minute)
	e.control("/sandbox/v1/expire-token", map[string]any{"appid": e.appID})
	calls.Store(0)
	errs := concurrently(10, func(i int) error {
		return []*wechat.Broker{b1, b2}[i%2].Do(ctx, e.appID, e.secret, e.api(&calls))
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.TokenFetches(e.appID); n != 3 {
		t.Fatalf("10 callers with a rejected token made %d fetches in all, want 3 (one refresh)", n)
	}
	if calls.Load() > 20 {
		t.Fatalf("api calls = %d, want at most 20 (each caller once, then at most once more)", calls.Load())
	}
}

func TestBrokerDoesNotForceAgainRightAfterAForce(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil, redisFor(t, testenv.RedisURL(t)))
	ctx := context.Background()
	var calls atomic.Int64
	alwaysRejects := func(string) error {
		calls.Add(1)
		return &wechat.Error{Code: 40001, Msg: "invalid credential rid: 00000000-00000000-00000000"}
	}
	err := b.Do(ctx, e.appID, e.secret, alwaysRejects)
	if !wechat.IsTokenExpired(err) || calls.Load() != 2 || e.sb.TokenFetches(e.appID) != 2 {
		t.Fatalf("first Do: err %v, calls %d, fetches %d; want 40001 after one refresh and one retry", err, calls.Load(), e.sb.TokenFetches(e.appID))
	}
	// Rejected again seconds later: no second force (quota), no retry.
	e.clock.Advance(5 * time.Second)
	err = b.Do(ctx, e.appID, e.secret, alwaysRejects)
	if !wechat.IsTokenExpired(err) || calls.Load() != 3 || e.sb.TokenFetches(e.appID) != 2 {
		t.Fatalf("second Do: err %v, calls %d, fetches %d; want 40001 with no refresh", err, calls.Load(), e.sb.TokenFetches(e.appID))
	}
	// Half a minute on, a refresh is allowed again.
	e.clock.Advance(30 * time.Second)
	_ = b.Do(ctx, e.appID, e.secret, alwaysRejects)
	if e.sb.TokenFetches(e.appID) != 3 {
		t.Fatalf("after the gap: %d fetches, want 3", e.sb.TokenFetches(e.appID))
	}
}

func TestBrokerRenewsShortlyBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil, redisFor(t, testenv.RedisURL(t)))
	ctx := context.Background()
	t1, _ := b.Token(ctx, e.appID, e.secret)
	e.clock.Advance(7200*time.Second - 10*time.Minute)
	if got, _ := b.Token(ctx, e.appID, e.secret); got != t1 || e.sb.TokenFetches(e.appID) != 1 {
		t.Fatal("a token 10 minutes from expiry must be served from the cache")
	}
	e.clock.Advance(7 * time.Minute) // 3 minutes left
	t2, err := b.Token(ctx, e.appID, e.secret)
	if err != nil || t2 == t1 || e.sb.TokenFetches(e.appID) != 2 {
		t.Fatalf("3 minutes before expiry: err %v, same %v, fetches %d; want a new token", err, t2 == t1, e.sb.TokenFetches(e.appID))
	}
	if _, code := e.sb.CheckAccessToken(t1); code != 0 {
		t.Fatal("the old token must keep working until its own expiry")
	}
}

func TestBrokerSurvivesARedisOutage(t *testing.T) {
	e := newEnv(t)
	rs := testenv.StartRedis(t)
	ctx := context.Background()
	a := e.broker(nil, redisFor(t, rs.URL()))
	tok, err := a.Token(ctx, e.appID, e.secret)
	if err != nil {
		t.Fatal(err)
	}

	redis.SetLogger(quiet{}) // go-redis reports every failed dial; expected here
	rs.Kill()
	// The process that has a token keeps using it.
	if got, err := a.Token(ctx, e.appID, e.secret); err != nil || got != tok || e.sb.TokenFetches(e.appID) != 1 {
		t.Fatalf("with Redis down: %v, same %v, fetches %d", err, got == tok, e.sb.TokenFetches(e.appID))
	}
	// A process started during the outage: 20 callers, one fetch.
	b := e.broker(slowClient(t, e, 100*time.Millisecond), redisFor(t, rs.URL()))
	for _, err := range concurrently(20, func(int) error { return b.Do(ctx, e.appID, e.secret, e.api(nil)) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.TokenFetches(e.appID); n != 2 {
		t.Fatalf("20 callers in a new process with Redis down: %d fetches in all, want 2", n)
	}

	// Redis comes back empty: the processes' copies are put back, nobody fetches.
	rs.Start()
	rdb := redisFor(t, rs.URL())
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // past RedisBackoff
	if _, err := a.Token(ctx, e.appID, e.secret); err != nil {
		t.Fatal(err)
	}
	if keys, _ := rdb.Keys(ctx, "minishop:wechat:token:*").Result(); len(keys) != 1 {
		t.Fatalf("the token was not put back in Redis: %v", keys)
	}
	c := e.broker(nil, rdb)
	for _, err := range concurrently(10, func(int) error { return c.Do(ctx, e.appID, e.secret, e.api(nil)) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sb.TokenFetches(e.appID); n != 2 {
		t.Fatalf("after Redis came back: %d fetches in all, want still 2", n)
	}
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestBrokerErrors(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil, redisFor(t, testenv.RedisURL(t)))
	ctx := context.Background()

	// A WeChat error is returned, fn is not called, and nothing is cached.
	e.fault("stable_token", 45009, 1)
	called := false
	err := b.Do(ctx, e.appID, e.secret, func(string) error { called = true; return nil })
	var we *wechat.Error
	if !errors.As(err, &we) || we.Code != 45009 || called {
		t.Fatalf("err %v, called %v; want 45009 and no call", err, called)
	}
	if _, err := b.Token(ctx, e.appID, e.secret); err != nil {
		t.Fatalf("the next call must fetch again: %v", err)
	}

	// Knowing the appid is not enough to get its cached token.
	wrong := "0123456789abcdef0123456789abcdef"
	if _, err := b.Token(ctx, e.appID, wrong); !errors.As(err, &we) || we.Code != 40125 {
		t.Fatalf("wrong secret: %v, want 40125 from WeChat", err)
	}
	assertNoSecret(t, err, wrong)

	// Errors of fn other than a rejected token are passed through once.
	boom := errors.New("boom")
	n := 0
	if err := b.Do(ctx, e.appID, e.secret, func(string) error { n++; return boom }); err != boom || n != 1 {
		t.Fatalf("err %v after %d calls", err, n)
	}

	// WeChat unreachable: ErrUnavailable.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := e.broker(wechat.New(closed.URL), nil).Token(ctx, e.appID, e.secret); !errors.Is(err, wechat.ErrUnavailable) {
		t.Fatalf("unreachable: %v", err)
	}
}
