package shop

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// The storefront's catalog cache.
//
// Every tenant has a hash in Redis, minishop:catalog:h:<tenant id>, that
// names the current version of each part of its storefront:
//
//	v       a random token that Invalidate replaces (emptying the rest of the
//	        hash) after each committed change of the catalog: content,
//	        prices, categories, publishing;
//	l       a counter of the list pages, raised when a product's
//	        availability band (in stock, low, sold out) changes;
//	p<id>   a counter of product id's detail, raised when the band of the
//	        product or of one of its SKUs changes.
//
// A storefront read fetches v and the field its response depends on (one
// HMGET, batched with the other requests of the moment) and looks its
// response up in this process's cache: an entry is served only while its
// version is the current one. So:
//
//   - a read that starts after Invalidate (or a stock change) returned sees
//     the new version, misses, and reads Postgres, where the change is
//     already committed: no process serves what was there before;
//   - an old version is never current again: v is random, not a counter, so
//     a Redis that lost the hash starts a new v rather than reusing one, and
//     the counters live in the same hash as v (Redis drops a hash whole), so
//     a counter can only restart along with a new v;
//   - nothing is broadcast, so there is no message to miss.
//
// Stock moves on every checkout, but the storefront shows only bands: a
// movement bumps nothing unless a band changed (catalog_cache_stock.go), and
// then only the product's detail, and the list pages only if the product's
// own band changed. Sales counts are not versioned: the pages sorted by
// sales are kept for at most salesLag, the bound on how late "sort by
// sales" follows payments.
//
// When Redis cannot be read (an error, or no answer within redisTimeout), a
// process keeps serving an entry whose version Redis confirmed less than
// staleFor ago, and renders the rest from Postgres without keeping it; it
// never empties its cache. A change made while Redis is unreadable shows
// after at most staleFor, however long Redis stays down. If Invalidate
// cannot write the new version, it retries in the background for entryTTL,
// the age after which any entry is dropped anyway: that is the bound on
// staleness when Redis refuses writes but still answers reads.
const (
	versionPrefix     = "minishop:catalog:h:" // + tenant id
	versionTTL        = 30 * 24 * time.Hour   // an idle tenant's versions may go; the next read starts a new v
	entryTTL          = 30 * time.Minute      // also the bound on staleness if Redis takes reads but refuses writes
	salesLag          = 2 * time.Minute       // pages sorted by sales follow payments at most this late
	staleFor          = 5 * time.Second       // while Redis is unreadable, entries confirmed this recently are served
	defaultCacheBytes = 1024 << 20            // MINISHOP_CATALOG_CACHE_MB
	maxEntryBytes     = 2 << 20               // larger responses are served, not kept
	cacheShards       = 16
	entryOverhead     = 200                    // bytes of bookkeeping per entry, for the budget
	redisTimeout      = 500 * time.Millisecond // a read of versions not answered by then fails…
	stallBackoff      = time.Second            // …and for this long reads do not wait for Redis at all
)

// errRedisSlow fails the reads of versions while Redis does not answer.
var errRedisSlow = errors.New("catalog cache: Redis did not answer within " + redisTimeout.String())

// Fields of the version hash (see above).
const (
	tokenField = "v"
	listField  = "l"
)

func productField(id int64) string { return "p" + strconv.FormatInt(id, 10) }

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

	hits, misses, bypassed, stale atomic.Uint64
	lastWarn                      atomic.Int64 // unix nanoseconds
	stalledUntil                  atomic.Int64 // unix nanoseconds: until then, reads do not ask Redis
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
	c.publish(ctx, tid, "a new catalog version", func(ctx context.Context) error {
		key := versionKey(tid)
		_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key) // the counters belong to the old v
			p.HSet(ctx, key, tokenField, newToken())
			p.Expire(ctx, key, versionTTL)
			return nil
		})
		return err
	})
}

// productsChanged raises the versions of the products' details and, with
// lists, of the tenant's list pages. Call it after the change commits.
func (c *catalogCache) productsChanged(ctx context.Context, tid int64, products []int64, lists bool) {
	if len(products) == 0 && !lists {
		return
	}
	c.publish(ctx, tid, "new product versions", func(ctx context.Context) error {
		key := versionKey(tid)
		_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range products {
				p.HIncrBy(ctx, key, productField(id), 1)
			}
			if lists {
				p.HIncrBy(ctx, key, listField, 1)
			}
			p.Expire(ctx, key, versionTTL)
			return nil
		})
		return err
	})
}

// publish runs write, retrying it in the background for entryTTL when it
// fails.
func (c *catalogCache) publish(ctx context.Context, tid int64, what string, write func(context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	try := func() error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return write(ctx)
	}
	err := try()
	if err == nil {
		return
	}
	c.log.ErrorContext(ctx, "catalog cache: cannot publish "+what+"; retrying", "tenant_id", tid, "err", err)
	go func() {
		deadline := time.Now().Add(entryTTL)
		for wait := 100 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 10*time.Second) {
			time.Sleep(wait)
			if try() == nil {
				c.log.InfoContext(ctx, "catalog cache: published "+what+" after retrying", "tenant_id", tid)
				return
			}
		}
		c.log.ErrorContext(ctx, "catalog cache: gave up publishing "+what+"; entries expire on their own", "tenant_id", tid, "ttl", entryTTL)
	}()
}

// version returns the version of field (tokenField alone when field is "")
// of the tenant's catalog, starting a v if the tenant has none (first read,
// or Redis lost it), and when the read was sent.
//
// Concurrent requests share round trips: a request joins the next batch,
// read with one pipeline that is sent after the request arrived, so it sees
// every change that was published before the request began, as if it had
// sent its own HMGET. Under load, one round trip serves many requests.
func (c *catalogCache) version(ctx context.Context, tid int64, field string) (string, time.Time, error) {
	if time.Now().UnixNano() < c.stalledUntil.Load() {
		return "", time.Time{}, errRedisSlow
	}
	w := waitPool.Get().(*versionWait)
	w.tid, w.field = tid, field
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
		return "", time.Time{}, ctx.Err() // w is still queued: it is not reused
	}
	v, at, err := w.v, w.at, w.err
	w.v, w.err = "", nil
	waitPool.Put(w)
	return v, at, err
}

// versionWait is a request waiting for its version.
type versionWait struct {
	tid   int64
	field string
	v     string
	at    time.Time // when the batch was sent
	err   error
	done  chan struct{} // buffered: one send per use, so it can be reused
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
		at := time.Now()
		vals, err := c.readWithin(plan(batch), redisTimeout)
		if err == errRedisSlow {
			c.stalledUntil.Store(time.Now().Add(stallBackoff).UnixNano())
		}
		for _, w := range batch {
			if err == nil {
				w.v = vals[w.tid].of(w.field)
			}
			w.at, w.err = at, err
			w.done <- struct{}{}
		}
		clear(batch)
		spare = batch
	}
}

// versions are a tenant's fields as one batch read them.
type versions struct {
	fields []string
	vals   []any
}

// of returns the version a response that depends on field is kept under:
// v, and the field's counter ("0" before it was ever raised).
func (vs versions) of(field string) string {
	v, _ := vs.vals[0].(string)
	if field == "" {
		return v
	}
	for i, f := range vs.fields {
		if f == field {
			n, ok := vs.vals[i].(string)
			if !ok {
				n = "0"
			}
			return v + "." + n
		}
	}
	return v + ".?" // not asked for: never happens
}

// batchPlan is what a batch reads: the fields of each tenant.
type batchPlan struct {
	tids []int64
	out  map[int64]versions
}

func plan(batch []*versionWait) batchPlan {
	b := batchPlan{out: make(map[int64]versions, len(batch))}
	for _, w := range batch {
		vs, ok := b.out[w.tid]
		if !ok {
			b.tids = append(b.tids, w.tid)
			vs.fields = []string{tokenField}
		}
		if w.field != "" && !slices.Contains(vs.fields, w.field) {
			vs.fields = append(vs.fields, w.field)
		}
		b.out[w.tid] = vs
	}
	return b
}

// readWithin reads b, giving up after d: the Redis client may wait longer
// than a context's deadline (its own read timeout), and a stalled read must
// not hold the storefront up. A read given up on finishes (or fails) on its
// own; its result is dropped.
func (c *catalogCache) readWithin(b batchPlan, d time.Duration) (map[int64]versions, error) {
	type result struct {
		out map[int64]versions
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.readBatch(b)
		done <- result{out, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-t.C:
		return nil, errRedisSlow
	}
}

func (c *catalogCache) readBatch(b batchPlan) (map[int64]versions, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	tids, out := b.tids, b.out
	p := c.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(tids))
	for i, tid := range tids {
		cmds[i] = p.HMGet(ctx, versionKey(tid), out[tid].fields...)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	var missing []int64
	for i, tid := range tids {
		vs := out[tid]
		vs.vals = cmds[i].Val()
		if len(vs.vals) != len(vs.fields) {
			return nil, errors.New("catalog cache: short HMGET reply")
		}
		out[tid] = vs
		if _, ok := vs.vals[0].(string); !ok {
			missing = append(missing, tid)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	// Tenants without a v yet: start one, unless another process just did
	// (HSETNX, then read what won). The counters of the new v start where
	// they are: nothing was kept under it.
	p = c.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(missing))
	for i, tid := range missing {
		key := versionKey(tid)
		p.HSetNX(ctx, key, tokenField, newToken())
		gets[i] = p.HGet(ctx, key, tokenField)
		p.Expire(ctx, key, versionTTL)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	for i, tid := range missing {
		v, err := gets[i].Result()
		if err != nil {
			return nil, err
		}
		out[tid].vals[0] = v
	}
	return out, nil
}

// get returns the response for key (which names the request, not the
// tenant) of the tenant in ctx, whose content depends on field of the
// version hash ("" for v alone): from this process's cache when that
// version has not changed since it was rendered, otherwise from render,
// once for all the concurrent requests that want it. ttl, if shorter than
// entryTTL, bounds how long the response is kept.
func (c *catalogCache) get(ctx context.Context, tid int64, key, field string, ttl time.Duration, render func(context.Context) (*rendered, error)) (*rendered, error) {
	if c == nil {
		return render(ctx)
	}
	full := strconv.FormatInt(tid, 10) + "/" + key
	sh := &c.shards[maphash.String(c.seed, full)%cacheShards]
	ver, at, err := c.version(ctx, tid, field)
	if err != nil {
		// Redis cannot say whether what we hold is current: serve what it
		// confirmed a moment ago, else read Postgres (and keep nothing).
		if r, ok := sh.recent(full, time.Now().Add(-staleFor)); ok {
			c.stale.Add(1)
			c.redisFailed(ctx, err)
			return r, nil
		}
		c.bypassed.Add(1)
		c.redisFailed(ctx, err)
		return render(ctx)
	}
	if r, ok := sh.get(full, ver, at); ok {
		c.hits.Add(1)
		return r, nil
	}
	c.misses.Add(1)
	v, err, _ := c.flight.Do(full+"\x00"+ver, func() (any, error) {
		// Shared by every waiter: not cancelled with the first request.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		r, err := render(rctx)
		if err != nil {
			return nil, err
		}
		sh.add(full, ver, r, min(ttl, entryTTL), at)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rendered), nil
}

// redisFailed logs, at most once a second, that Redis cannot be read.
func (c *catalogCache) redisFailed(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := c.lastWarn.Load()
	if now-last < int64(time.Second) || !c.lastWarn.CompareAndSwap(last, now) {
		return
	}
	c.log.WarnContext(ctx, "catalog cache: Redis unreadable; serving entries it confirmed in the last "+staleFor.String()+", the rest from Postgres", "err", err)
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
	Stale    uint64 // responses served from the cache while Redis could not be read (confirmed less than staleFor before)
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
	st := CatalogCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bypassed: c.bypassed.Load(), Stale: c.stale.Load()}
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
// first when the shard is over its byte budget; expired entries are not
// served. An entry is kept per request, with the version it was rendered
// under: a newer version's response replaces it.
type lruShard struct {
	mu    sync.Mutex
	ll    list.List // front: most recently used
	m     map[string]*list.Element
	bytes int64
	limit int64
}

type lruEntry struct {
	key       string
	version   string
	r         *rendered
	expires   int64 // unix nanoseconds
	confirmed int64 // unix nanoseconds: the latest read of Redis that found version current was sent then
}

func (e *lruEntry) size() int64 { return e.r.size() + int64(len(e.key)+len(e.version)) }

// live returns key's entry unless it expired (then it drops it). s.mu is held.
func (s *lruShard) live(key string) (*list.Element, *lruEntry) {
	el, ok := s.m[key]
	if !ok {
		return nil, nil
	}
	e := el.Value.(*lruEntry)
	if time.Now().UnixNano() > e.expires {
		s.remove(el)
		return nil, nil
	}
	return el, e
}

// get returns the entry of key if it was rendered under version, and notes
// that Redis confirmed that version at the time at.
func (s *lruShard) get(key, version string, at time.Time) (*rendered, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, e := s.live(key)
	if e == nil || e.version != version { // rendered under an older (or, briefly, a newer) version
		return nil, false
	}
	e.confirmed = max(e.confirmed, at.UnixNano())
	s.ll.MoveToFront(el)
	return e.r, true
}

// recent returns the entry of key, whatever its version, if Redis confirmed
// it after since.
func (s *lruShard) recent(key string, since time.Time) (*rendered, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, e := s.live(key)
	if e == nil || e.confirmed < since.UnixNano() {
		return nil, false
	}
	s.ll.MoveToFront(el)
	return e.r, true
}

// add keeps r as key's response under version (read from Redis at the time
// at) for ttl.
func (s *lruShard) add(key, version string, r *rendered, ttl time.Duration, at time.Time) {
	e := &lruEntry{key: key, version: version, r: r, expires: time.Now().Add(ttl).UnixNano(), confirmed: at.UnixNano()}
	size := e.size()
	if size > maxEntryBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*list.Element{}
	}
	if el, ok := s.m[key]; ok {
		if old := el.Value.(*lruEntry); old.confirmed > e.confirmed && old.version != version {
			return // a render under an older version finished late: keep the newer
		}
		s.remove(el)
	}
	if size > s.limit {
		return
	}
	s.m[key] = s.ll.PushFront(e)
	s.bytes += size
	for s.bytes > s.limit {
		s.remove(s.ll.Back())
	}
}

func (s *lruShard) remove(el *list.Element) {
	e := el.Value.(*lruEntry)
	s.ll.Remove(el)
	delete(s.m, e.key)
	s.bytes -= e.size()
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
