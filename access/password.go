package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLen is the shortest password accepted, in characters (NIST
// SP 800-63B asks for at least 8; people here are given generated ones).
const MinPasswordLen = 12

// maxPasswordLen bounds the work a sign-in may ask of the KDF.
const maxPasswordLen = 256

// argon2id parameters: OWASP's first recommendation (19 MiB, 2 passes, one
// lane). They are stored in each hash, so raising them later keeps old
// hashes valid.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fieldErr("password", fmt.Sprintf("a password has at least %d characters", MinPasswordLen))
	case len(pw) > maxPasswordLen:
		return fieldErr("password", fmt.Sprintf("a password has at most %d bytes", maxPasswordLen))
	}
	return nil
}

// HashPassword returns pw hashed with argon2id and a fresh salt, encoded
// PHC-style: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash is a stored hash citygrid cannot read.
var errBadHash = errors.New("not an argon2id hash")

// dummyHash is checked against when there is no user, so that an unknown
// name costs as long as a wrong password.
// Made once, when first needed: not at every start of a binary.
var dummyHash = sync.OnceValue(func() string { return HashPassword("citygrid: no such user") })

// CheckPassword reports whether pw matches encoded (from HashPassword), in
// time that does not depend on where they differ. An empty encoded (no
// such user, no password set) is checked against a dummy hash and fails.
func CheckPassword(encoded, pw string) bool {
	if encoded == "" {
		checkPassword(dummyHash(), pw) //nolint:errcheck // for the time it takes
		return false
	}
	ok, err := checkPassword(encoded, pw)
	return ok && err == nil
}

func checkPassword(encoded, pw string) (bool, error) {
	if len(pw) > maxPasswordLen {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NewPassword returns a generated password: 16 random bytes as 22
// base64url characters (128 bits).
func NewPassword() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
