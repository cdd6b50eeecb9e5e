package sandbox

import (
	"strconv"
	"testing"
)

// BenchmarkDeriveRSA measures deriving one 2048-bit key from the seed, the
// cost of a sandbox merchant's first use.
func BenchmarkDeriveRSA(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		deriveRSA(testSeed, "bench:"+strconv.Itoa(i))
	}
}
