package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewAPIKey returns a fresh random key: 40 hex characters prefixed "esk_".
func NewAPIKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "esk_" + hex.EncodeToString(b)
}

// HashKey returns the SHA-256 of a key, the only form that is stored.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// RandomPassword returns a random password for generated accounts.
func RandomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
