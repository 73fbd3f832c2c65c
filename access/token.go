package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// TokenPrefix starts every API key, so that secret scanners and people
// recognise one.
const TokenPrefix = "cg_"

// tokenBytes is the key's randomness: 256 bits, 43 base64url characters.
const tokenBytes = 32

// TokenLen is the length of a token: the prefix and 43 characters.
const TokenLen = len(TokenPrefix) + 43

// ErrMalformedToken is a credential that cannot be a citygrid key.
var ErrMalformedToken = errors.New("not a citygrid API key (want cg_ followed by 43 base64url characters)")

// NewToken returns a fresh key and the hash it is stored as; the token
// itself is shown once and never stored.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("access: no randomness: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

// HashToken checks a presented token's form and returns the hash to look
// it up by. A fast hash is right for 256 random bits: there is nothing to
// guess.
func HashToken(token string) ([]byte, error) {
	if len(token) != TokenLen || !strings.HasPrefix(token, TokenPrefix) {
		return nil, ErrMalformedToken
	}
	b, err := base64.RawURLEncoding.DecodeString(token[len(TokenPrefix):])
	if err != nil || len(b) != tokenBytes {
		return nil, ErrMalformedToken
	}
	h := sha256.Sum256([]byte(token))
	return h[:], nil
}
