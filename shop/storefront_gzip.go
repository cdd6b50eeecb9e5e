package shop

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"sync"

	"github.com/minishop/minishop/internal/httpx"
)

// Catalog responses are kept gzip-compressed: a Mini Program asks for gzip,
// so most reads are answered with the cached bytes as they are, a client
// that does not is answered with them inflated, and the cache holds about
// four times as many responses in the same memory.

// gzipMin is the smallest body worth compressing: below it the gzip framing
// (18 bytes) eats the gain.
const gzipMin = 512

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return w
}}

var gzipReaders sync.Pool // *gzip.Reader

// compress returns body gzip-compressed, or nil when that does not make it
// smaller.
func compress(body []byte) []byte {
	if len(body) < gzipMin {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, err := w.Write(body)
	if err == nil {
		err = w.Close()
	}
	gzipWriters.Put(w)
	if err != nil || buf.Len() >= len(body) {
		return nil
	}
	return bytes.Clone(buf.Bytes()) // exact size: it is kept for minutes
}

// inflate returns the uncompressed bytes of gz.
func inflate(gz []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(gz))
	} else {
		err = zr.Reset(bytes.NewReader(gz))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	return io.ReadAll(zr)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// (gzip or x-gzip) with a q above 0, or not named and allowed by "*".
func acceptsGzip(header string) bool {
	named, star := -1.0, -1.0 // -1: not in the header
	for coding, q := range httpx.Weighted(header) {
		switch {
		case strings.EqualFold(coding, "gzip") || strings.EqualFold(coding, "x-gzip"):
			named = max(named, q)
		case coding == "*":
			star = q
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// gzipETag is the ETag of the gzip representation of a response whose
// identity ETag is etag: a strong ETag names one sequence of bytes.
func gzipETag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-gz"` }
