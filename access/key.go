package access

import (
	"fmt"
	"strconv"
	"time"

	"citygrid/grid"
)

// Key is an API key as stored: everything but the token, which is shown
// once when the key is made.
type Key struct {
	ID        int64      `json:"-"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Scope     []string   `json:"scope"` // empty: the whole district
	Unit      string     `json:"unit,omitempty"`
	Source    string     `json:"source,omitempty"`
	Demo      bool       `json:"demo"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// IDString is the key's id as the API writes it.
func (k *Key) IDString() string { return strconv.FormatInt(k.ID, 10) }

// Validate checks a key about to be made: a known role, a name, a handler's
// unit, an integration's source, well-formed grid codes, an expiry to
// come. Whether the grids and the unit exist is the store's to check.
func (k *Key) Validate(now time.Time) error {
	switch {
	case k.Name == "" || len(k.Name) > 200:
		return fieldErr("name", "a name of 1 to 200 bytes is required")
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return fieldErr("expires_at", "expires_at must lie in the future")
	}
	return ValidateGrant("key", k.Role, k.Scope, k.Unit, k.Source)
}

// ValidateGrant checks what a credential grants, a key's or a user's
// alike (noun names it in the messages): a known role, a handler's unit,
// an integration's source, well-formed grid codes, no scope on an admin.
// Whether the grids and the unit exist is the store's to check.
func ValidateGrant(noun string, role Role, scope []string, unit, source string) error {
	if _, err := ParseRole(string(role)); err != nil {
		return fieldErr("role", err.Error())
	}
	switch {
	case role == RoleHandler && unit == "":
		return fieldErr("unit", "a handler "+noun+" needs the unit whose cases it handles")
	case role == RoleIntegration && source == "":
		return fieldErr("source", "an integration "+noun+" needs the source it writes")
	case role == RoleAdmin && len(scope) > 0:
		// An admin manages keys, grids and the audit trail of the whole
		// district: a scoped admin could make itself a wider key.
		return fieldErr("scope", "admin "+noun+"s cover the whole district: give an admin "+noun+" no scope")
	case unit != "" && role != RoleHandler:
		return fieldErr("unit", "only handler "+noun+"s have a unit")
	case source != "" && role != RoleIntegration:
		return fieldErr("source", "only integration "+noun+"s have a source")
	case len(source) > 100:
		return fieldErr("source", "source is longer than 100 bytes")
	case len(scope) > 1000:
		return fieldErr("scope", "at most 1000 grid codes")
	}
	for _, code := range scope {
		if err := grid.ValidateCode(code); err != nil {
			return fieldErr("scope", err.Error())
		}
	}
	return nil
}

// Usable reports why a stored key cannot be used now, or nil.
func (k *Key) Usable(now time.Time) error {
	switch {
	case k.RevokedAt != nil:
		return fmt.Errorf("key %d was revoked", k.ID)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return fmt.Errorf("key %d expired", k.ID)
	}
	return nil
}

// Principal is who a request with this key acts as.
func (k *Key) Principal() *Principal {
	return &Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Scope: k.Scope, Unit: k.Unit, Source: k.Source, ExpiresAt: k.ExpiresAt}
}

// FieldError is a key field that cannot be accepted.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, reason string) error { return &FieldError{field, reason} }
