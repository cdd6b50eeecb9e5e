package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func base32NoPad(b []byte) string { return b32.EncodeToString(b) }

// newSecret returns a random URL-safe token of n bytes and its sha256, which
// is all that is stored.
func newSecret(n int) (token string, hash []byte) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, secretHash(token)
}

func secretHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
