package main

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for v := uint64(0); v < 1<<20; v += 1 + v/50 {
		i := bucketOf(v)
		if lo, hi := bucketLow(i), bucketLow(i+1); v < lo || v >= hi {
			t.Fatalf("%d in bucket %d = [%d, %d)", v, i, lo, hi)
		}
	}
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.99: 990 * time.Microsecond, 1: 1000 * time.Microsecond} {
		if got := h.quantile(q); got < want*97/100 || got > want*103/100 {
			t.Errorf("quantile %v: %v, want %v ±3%%", q, got, want)
		}
	}
}
