package shop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func entryOf(n int) *rendered { return &rendered{body: []byte(strings.Repeat("x", n)), etag: `"e"`} }

func TestCatalogCacheShardStaysWithinItsBudget(t *testing.T) {
	var s lruShard
	s.setLimit(10_000)
	for i := range 100 {
		s.add(fmt.Sprint("k", i), "v", entryOf(500), entryTTL, time.Now())
		if _, b, l := s.stats(); b > l {
			t.Fatalf("after %d adds: %d bytes over a limit of %d", i+1, b, l)
		}
	}
	n, b, _ := s.stats()
	per := entryOf(500).size() + 3 + 1
	if n != int(10_000/per) || b != int64(n)*per {
		t.Fatalf("%d entries, %d bytes; want %d entries of %d bytes", n, b, 10_000/per, per)
	}
	// The least recently used go first.
	if _, ok := s.get("k0", "v", time.Now()); ok {
		t.Fatal("the oldest entry survived")
	}
	if _, ok := s.get("k99", "v", time.Now()); !ok {
		t.Fatal("the newest entry was evicted")
	}
	oldest := fmt.Sprint("k", 100-n)
	if _, ok := s.get(oldest, "v", time.Now()); !ok { // now the most recently used
		t.Fatalf("%s was evicted early", oldest)
	}
	s.add("new", "v", entryOf(500), entryTTL, time.Now())
	if _, ok := s.get(oldest, "v", time.Now()); !ok {
		t.Fatal("a recently read entry was evicted before older ones")
	}
	// Replacing an entry does not leak its bytes; a too-large one is not kept.
	s.add("new", "v", entryOf(100), entryTTL, time.Now())
	s.add("huge", "v", entryOf(20_000), entryTTL, time.Now())
	if _, ok := s.get("huge", "v", time.Now()); ok {
		t.Fatal("an entry larger than the budget was kept")
	}
	var total int64
	for el := s.ll.Front(); el != nil; el = el.Next() {
		e := el.Value.(*lruEntry)
		total += e.size()
	}
	if _, b, _ := s.stats(); b != total {
		t.Fatalf("accounted %d bytes, holding %d", b, total)
	}
	// Shrinking evicts at once.
	s.setLimit(1000)
	if n, b, _ := s.stats(); b > 1000 || n == 0 {
		t.Fatalf("after shrinking: %d entries, %d bytes", n, b)
	}
}

func TestCatalogCacheEntriesExpire(t *testing.T) {
	var s lruShard
	s.setLimit(1 << 20)
	s.add("k", "v", entryOf(10), entryTTL, time.Now())
	s.m["k"].Value.(*lruEntry).expires = time.Now().Add(-time.Second).UnixNano()
	if _, ok := s.get("k", "v", time.Now()); ok {
		t.Fatal("an expired entry was served")
	}
	if n, b, _ := s.stats(); n != 0 || b != 0 {
		t.Fatalf("an expired entry is dropped when met: %d entries, %d bytes", n, b)
	}
}

func TestCatalogCacheNilCachesNothing(t *testing.T) {
	var c *catalogCache
	calls := 0
	for range 2 {
		r, err := c.get(t.Context(), 1, "k", "", entryTTL, func(context.Context) (*rendered, error) { calls++; return entryOf(1), nil })
		if err != nil || r == nil {
			t.Fatal(r, err)
		}
	}
	if calls != 2 {
		t.Fatalf("rendered %d times", calls)
	}
}

func TestCatalogCacheServesOnlyTheCurrentVersion(t *testing.T) {
	var s lruShard
	s.setLimit(1 << 20)
	t0 := time.Now()
	s.add("k", "v1", entryOf(10), entryTTL, t0)
	if _, ok := s.get("k", "v2", t0.Add(time.Second)); ok {
		t.Fatal("an entry of another version was served")
	}
	// A render under v1 that finishes after v2's was kept does not replace it.
	s.add("k", "v2", entryOf(20), entryTTL, t0.Add(2*time.Second))
	s.add("k", "v1", entryOf(10), entryTTL, t0.Add(time.Second))
	if r, ok := s.get("k", "v2", t0.Add(3*time.Second)); !ok || len(r.body) != 20 {
		t.Fatalf("the newer version's entry was replaced by an older render: %v", ok)
	}
	if n, _, _ := s.stats(); n != 1 {
		t.Fatalf("%d entries for one request", n)
	}
	// While Redis cannot be read, an entry is served only if Redis
	// confirmed it recently; a hit confirms it again.
	if _, ok := s.recent("k", t0.Add(3*time.Second+time.Nanosecond)); ok {
		t.Fatal("an entry confirmed before the window was served")
	}
	if _, ok := s.recent("k", t0.Add(3*time.Second)); !ok {
		t.Fatal("an entry confirmed within the window was not served")
	}
	s.add("short", "v", entryOf(10), time.Millisecond, time.Now())
	time.Sleep(2 * time.Millisecond)
	if _, ok := s.recent("short", time.Now().Add(-time.Minute)); ok {
		t.Fatal("an expired entry was served while Redis was down")
	}
}
