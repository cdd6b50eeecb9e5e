package main

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// target is what one load run requests: next picks the Host and path of a
// request.
type target struct {
	name     string
	url      string // http://127.0.0.1:port
	encoding string // Accept-Encoding sent ("": none)
	next     func(r *rand.Rand) (host, path string)
}

// result of one run.
type result struct {
	requests, errors uint64
	bytes            uint64
	elapsed          time.Duration
	lat              *histogram
	firstErr         string
}

func (r result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func newClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		MaxConnsPerHost:     conc * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}
}

// load runs tg with conc workers for d. With rate 0 every worker sends its
// next request as soon as the last one is answered (closed loop: the peak).
// With a rate, requests are due at fixed intervals whatever the server does
// (open loop) and latency counts from when a request was due, so a server
// that falls behind is charged for the wait (no coordinated omission).
func load(ctx context.Context, client *http.Client, tg target, conc int, d time.Duration, rate float64, record bool) result {
	var mu sync.Mutex
	total := result{lat: &histogram{}}
	var seq atomic.Int64
	start := time.Now()
	end := start.Add(d)
	interval := time.Duration(0)
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var mine result
			mine.lat = &histogram{}
			for ctx.Err() == nil {
				due := time.Now()
				if interval > 0 {
					due = start.Add(time.Duration(seq.Add(1)-1) * interval)
					if due.After(end) {
						break
					}
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
				} else if due.After(end) {
					break
				}
				host, path := tg.next(r)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tg.url+path, nil)
				req.Host = host
				if tg.encoding != "" {
					req.Header.Set("Accept-Encoding", tg.encoding)
				}
				resp, err := client.Do(req)
				var n int64
				if err == nil {
					n, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s (Host %s): %s", path, host, resp.Status)
					}
				}
				lat := time.Since(due)
				mine.requests++
				mine.bytes += uint64(n)
				if err != nil {
					mine.errors++
					if mine.firstErr == "" {
						mine.firstErr = err.Error()
					}
				}
				if record {
					mine.lat.add(lat)
				}
			}
			mu.Lock()
			total.requests += mine.requests
			total.errors += mine.errors
			total.bytes += mine.bytes
			total.lat.merge(mine.lat)
			if total.firstErr == "" {
				total.firstErr = mine.firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// histogram counts latencies in log-linear buckets: 32 per power of two,
// so a quantile is within about 3%.
type histogram struct {
	counts [64 << subBits]uint64
	n      uint64
	max    time.Duration
}

const subBits = 5

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return (e+1)<<subBits + int(v>>e) - 1<<subBits
}

// bucketLow is the smallest value of bucket i.
func bucketLow(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	return uint64(i&(1<<subBits-1)+1<<subBits) << e
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1): the middle of its bucket.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(i), bucketLow(i+1)
			return min(time.Duration((lo+hi)/2), h.max)
		}
	}
	return h.max
}
