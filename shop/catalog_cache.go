package shop

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// The storefront's catalog cache.
//
// Every tenant has a catalog version in Redis: a random token that Invalidate
// replaces after each committed change of the tenant's catalog. A storefront
// read fetches the token (one GET) and looks its response up in this
// process's cache under (tenant, token, request). So:
//
//   - a read that starts after Invalidate returned sees the new token, misses,
//     and reads Postgres, where the change is already committed: no process
//     serves what was there before an edit that has returned;
//   - an old token is never current again (tokens are random, not counters, so
//     a Redis that lost the key starts a new token rather than reusing one);
//     entries under old tokens are never looked up and age out of the LRU;
//   - nothing is broadcast, so there is no message to miss.
//
// A response rendered by a read that began before the change may be stored
// under the old token; it is never served again either. When Redis cannot be
// read, requests bypass the cache and read Postgres (fresh, slower). If
// Invalidate cannot write the new token, it retries in the background for
// entryTTL, the age after which any entry is dropped anyway: that is the
// bound on staleness when Redis refuses a write but still answers reads.
const (
	versionPrefix     = "minishop:catalog:v:" // + tenant id
	versionTTL        = 30 * 24 * time.Hour   // an idle tenant's token may go; the next read starts a new one
	entryTTL          = 30 * time.Minute      // also the bound on staleness if Redis takes reads but refuses writes
	defaultCacheBytes = 1024 << 20            // MINISHOP_CATALOG_CACHE_MB
	maxEntryBytes     = 2 << 20               // larger responses are served, not kept
	cacheShards       = 16
	entryOverhead     = 160 // bytes of bookkeeping per entry, for the budget
	redisTimeout      = 500 * time.Millisecond
)

// rendered is a response of the storefront catalog: a JSON body and its ETag,
// or a not-found error (cached too: a product that does not exist is asked
// for again and again).
type rendered struct {
	body     []byte // nil when gz holds it
	gz       []byte // the body gzip-compressed, when that is smaller (storefront_gzip.go)
	etag     string
	notFound error
}

func (r *rendered) size() int64 { return int64(len(r.body)+len(r.gz)+len(r.etag)) + entryOverhead }

// catalogCache implements CatalogCache. A nil *catalogCache caches nothing.
type catalogCache struct {
	rdb    *redis.Client
	log    *slog.Logger
	seed   maphash.Seed
	shards [cacheShards]lruShard
	flight singleflight.Group

	mu      sync.Mutex
	queue   []*versionWait // requests waiting for the next batch of versions
	reading bool           // a goroutine is reading batches

	hits, misses, bypassed atomic.Uint64
	lastPurge              atomic.Int64 // unix nanoseconds
}

// newCatalogCache returns the storefront's catalog cache. Without Redis there
// is no way to tell other processes about a change, so nothing is cached.
func newCatalogCache(s *Service) CatalogCache {
	if s.Redis == nil {
		return noCache{}
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	c := &catalogCache{rdb: s.Redis, log: log, seed: maphash.MakeSeed()}
	c.setLimit(defaultCacheBytes)
	return c
}

func versionKey(tid int64) string { return versionPrefix + strconv.FormatInt(tid, 10) }

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Invalidate gives the tenant a new catalog version, so that every process
// stops serving what it rendered before. Call it after the change commits.
// A failure is retried in the background and logged; Invalidate itself does
// not fail the caller's (already committed) change.
func (c *catalogCache) Invalidate(ctx context.Context, tid int64) {
	ctx = context.WithoutCancel(ctx)
	err := c.bump(ctx, tid)
	if err == nil {
		return
	}
	c.log.ErrorContext(ctx, "catalog cache: cannot publish a new catalog version; retrying", "tenant_id", tid, "err", err)
	go func() {
		deadline := time.Now().Add(entryTTL)
		for wait := 100 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 10*time.Second) {
			time.Sleep(wait)
			if c.bump(ctx, tid) == nil {
				c.log.InfoContext(ctx, "catalog cache: new catalog version published after retrying", "tenant_id", tid)
				return
			}
		}
		c.log.ErrorContext(ctx, "catalog cache: gave up publishing a new catalog version; entries expire on their own", "tenant_id", tid, "ttl", entryTTL)
	}()
}

func (c *catalogCache) bump(ctx context.Context, tid int64) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return c.rdb.Set(ctx, versionKey(tid), newToken(), versionTTL).Err()
}

// version returns the tenant's current catalog version, starting one if the
// tenant has none (first read, or Redis lost it).
//
// Concurrent requests share round trips: a request joins the next batch,
// read with one MGET that is sent after the request arrived, so it sees
// every Invalidate that returned before the request began, as if it had sent
// its own GET. Under load, one round trip serves many requests.
func (c *catalogCache) version(ctx context.Context, tid int64) (string, error) {
	w := waitPool.Get().(*versionWait)
	w.tid = tid
	c.mu.Lock()
	c.queue = append(c.queue, w)
	lead := !c.reading
	c.reading = true
	c.mu.Unlock()
	if lead {
		go c.readVersions()
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		return "", ctx.Err() // w is still queued: it is not reused
	}
	v, err := w.v, w.err
	w.v, w.err = "", nil
	waitPool.Put(w)
	return v, err
}

// versionWait is a request waiting for its tenant's version.
type versionWait struct {
	tid  int64
	v    string
	err  error
	done chan struct{} // buffered: one send per use, so it can be reused
}

var waitPool = sync.Pool{New: func() any { return &versionWait{done: make(chan struct{}, 1)} }}

// readVersions reads the versions of queued requests, a batch at a time,
// until none is left.
func (c *catalogCache) readVersions() {
	var spare []*versionWait
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = spare[:0]
		if len(batch) == 0 {
			c.reading = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		vals, err := c.readBatch(batch)
		for _, w := range batch {
			w.v, w.err = vals[w.tid], err
			w.done <- struct{}{}
		}
		clear(batch)
		spare = batch
	}
}

func (c *catalogCache) readBatch(batch []*versionWait) (map[int64]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	tids := make([]int64, 0, len(batch))
	keys := make([]string, 0, len(batch))
	seen := make(map[int64]bool, len(batch))
	for _, w := range batch {
		if !seen[w.tid] {
			seen[w.tid] = true
			tids = append(tids, w.tid)
			keys = append(keys, versionKey(w.tid))
		}
	}
	vals, err := c.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(tids))
	var missing []int
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[tids[i]] = s
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	// Tenants without a version yet: start one, unless another process
	// just did (SET NX GET returns theirs).
	p := c.rdb.Pipeline()
	cmds := make([]*redis.StatusCmd, len(missing))
	toks := make([]string, len(missing))
	for j, i := range missing {
		toks[j] = newToken()
		cmds[j] = p.SetArgs(ctx, keys[i], toks[j], redis.SetArgs{Mode: "NX", Get: true, TTL: versionTTL})
	}
	if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	for j, i := range missing {
		v, err := cmds[j].Result()
		switch {
		case err == redis.Nil:
			v = toks[j]
		case err != nil:
			return nil, err
		}
		out[tids[i]] = v
	}
	return out, nil
}

// get returns the response for key (which names the request, not the
// tenant) of the tenant in ctx: from this process's cache when the tenant's
// catalog has not changed since it was rendered, otherwise from render, once
// for all the concurrent requests that want it.
func (c *catalogCache) get(ctx context.Context, tid int64, key string, render func(context.Context) (*rendered, error)) (*rendered, error) {
	if c == nil {
		return render(ctx)
	}
	ver, err := c.version(ctx, tid)
	if err != nil {
		// Without the version nothing cached can be trusted: read Postgres,
		// and drop what this process holds, since invalidations may be
		// failing too.
		c.bypassed.Add(1)
		c.redisFailed(ctx, err)
		return render(ctx)
	}
	full := strconv.FormatInt(tid, 10) + "/" + ver + "/" + key
	sh := &c.shards[maphash.String(c.seed, full)%cacheShards]
	if r, ok := sh.get(full); ok {
		c.hits.Add(1)
		return r, nil
	}
	c.misses.Add(1)
	v, err, _ := c.flight.Do(full, func() (any, error) {
		// Shared by every waiter: not cancelled with the first request.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		r, err := render(rctx)
		if err != nil {
			return nil, err
		}
		sh.add(full, r)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rendered), nil
}

func (c *catalogCache) redisFailed(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := c.lastPurge.Load()
	if now-last < int64(time.Second) || !c.lastPurge.CompareAndSwap(last, now) {
		return
	}
	for i := range c.shards {
		c.shards[i].purge()
	}
	c.log.WarnContext(ctx, "catalog cache: Redis unreachable; serving from Postgres", "err", err)
}

func (c *catalogCache) setLimit(bytes int64) {
	for i := range c.shards {
		c.shards[i].setLimit(bytes / cacheShards)
	}
}

// CatalogCacheStats describes this process's storefront catalog cache.
type CatalogCacheStats struct {
	Hits     uint64 // responses served from the cache
	Misses   uint64 // responses rendered from Postgres and kept
	Bypassed uint64 // responses rendered because Redis could not be read
	Entries  int
	Bytes    int64 // counted against the limit
	Limit    int64
}

// CatalogCacheStats returns the counters of the storefront catalog cache
// (zero when it is off).
func (s *Service) CatalogCacheStats() CatalogCacheStats {
	c, ok := s.cache.(*catalogCache)
	if !ok {
		return CatalogCacheStats{}
	}
	st := CatalogCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bypassed: c.bypassed.Load()}
	for i := range c.shards {
		n, b, l := c.shards[i].stats()
		st.Entries += n
		st.Bytes += b
		st.Limit += l
	}
	return st
}

// SetCatalogCacheLimit sets the memory budget of the storefront catalog cache
// in bytes (default 1 GiB), evicting the least recently used responses
// beyond it. For main and benchmarks; safe at any time.
func (s *Service) SetCatalogCacheLimit(bytes int64) {
	if c, ok := s.cache.(*catalogCache); ok {
		c.setLimit(bytes)
	}
}

// lruShard is one lock's worth of the cache: least recently used entries go
// first when the shard is over its byte budget; entries older than entryTTL
// are not served.
type lruShard struct {
	mu    sync.Mutex
	ll    list.List // front: most recently used
	m     map[string]*list.Element
	bytes int64
	limit int64
}

type lruEntry struct {
	key     string
	r       *rendered
	expires int64 // unix nanoseconds
}

func (s *lruShard) get(key string) (*rendered, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if time.Now().UnixNano() > e.expires {
		s.remove(el)
		return nil, false
	}
	s.ll.MoveToFront(el)
	return e.r, true
}

func (s *lruShard) add(key string, r *rendered) {
	size := r.size() + int64(len(key))
	if size > maxEntryBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*list.Element{}
	}
	if el, ok := s.m[key]; ok {
		s.remove(el)
	}
	if size > s.limit {
		return
	}
	s.m[key] = s.ll.PushFront(&lruEntry{key: key, r: r, expires: time.Now().Add(entryTTL).UnixNano()})
	s.bytes += size
	for s.bytes > s.limit {
		s.remove(s.ll.Back())
	}
}

func (s *lruShard) remove(el *list.Element) {
	e := el.Value.(*lruEntry)
	s.ll.Remove(el)
	delete(s.m, e.key)
	s.bytes -= e.r.size() + int64(len(e.key))
}

func (s *lruShard) purge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ll.Init()
	s.m = nil
	s.bytes = 0
}

func (s *lruShard) setLimit(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
	for s.bytes > s.limit && s.ll.Len() > 0 {
		s.remove(s.ll.Back())
	}
}

func (s *lruShard) stats() (n int, bytes, limit int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ll.Len(), s.bytes, s.limit
}
