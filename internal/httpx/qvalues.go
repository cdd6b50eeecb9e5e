package httpx

import (
	"iter"
	"strconv"
	"strings"
)

// Weighted yields the elements of a header list with quality values
// (Accept-Encoding, Accept-Language): each token, trimmed, with its q (1
// when absent or malformed), in the order listed.
func Weighted(header string) iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for part := range strings.SplitSeq(header, ",") {
			token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
			if !yield(strings.TrimSpace(token), q) {
				return
			}
		}
	}
}
