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
		s.add(fmt.Sprint("k", i), entryOf(500))
		if _, b, l := s.stats(); b > l {
			t.Fatalf("after %d adds: %d bytes over a limit of %d", i+1, b, l)
		}
	}
	n, b, _ := s.stats()
	per := entryOf(500).size() + 3
	if n != int(10_000/per) || b != int64(n)*per {
		t.Fatalf("%d entries, %d bytes; want %d entries of %d bytes", n, b, 10_000/per, per)
	}
	// The least recently used go first.
	if _, ok := s.get("k0"); ok {
		t.Fatal("the oldest entry survived")
	}
	if _, ok := s.get("k99"); !ok {
		t.Fatal("the newest entry was evicted")
	}
	oldest := fmt.Sprint("k", 100-n)
	if _, ok := s.get(oldest); !ok { // now the most recently used
		t.Fatalf("%s was evicted early", oldest)
	}
	s.add("new", entryOf(500))
	if _, ok := s.get(oldest); !ok {
		t.Fatal("a recently read entry was evicted before older ones")
	}
	// Replacing an entry does not leak its bytes; a too-large one is not kept.
	s.add("new", entryOf(100))
	s.add("huge", entryOf(20_000))
	if _, ok := s.get("huge"); ok {
		t.Fatal("an entry larger than the budget was kept")
	}
	var total int64
	for el := s.ll.Front(); el != nil; el = el.Next() {
		e := el.Value.(*lruEntry)
		total += e.r.size() + int64(len(e.key))
	}
	if _, b, _ := s.stats(); b != total {
		t.Fatalf("accounted %d bytes, holding %d", b, total)
	}
	// Shrinking evicts at once.
	s.setLimit(1000)
	if n, b, _ := s.stats(); b > 1000 || n == 0 {
		t.Fatalf("after shrinking: %d entries, %d bytes", n, b)
	}
	s.purge()
	if n, b, _ := s.stats(); n != 0 || b != 0 {
		t.Fatalf("after purge: %d entries, %d bytes", n, b)
	}
}

func TestCatalogCacheEntriesExpire(t *testing.T) {
	var s lruShard
	s.setLimit(1 << 20)
	s.add("k", entryOf(10))
	s.m["k"].Value.(*lruEntry).expires = time.Now().Add(-time.Second).UnixNano()
	if _, ok := s.get("k"); ok {
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
		r, err := c.get(t.Context(), 1, "k", func(context.Context) (*rendered, error) { calls++; return entryOf(1), nil })
		if err != nil || r == nil {
			t.Fatal(r, err)
		}
	}
	if calls != 2 {
		t.Fatalf("rendered %d times", calls)
	}
}
