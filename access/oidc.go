package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ClaimMapping turns an OpenID Connect ID token's claims into a user's
// grant. The identity provider is the source of truth: the grant is
// re-read at every sign-in.
//
//   - RoleClaim holds a string or a list of strings. With RoleMap empty a
//     value that names a role (admin … viewer) is that role; with RoleMap,
//     only its values count, each mapped to its role. When several values
//     give roles, the earliest in RoleMap wins (without a map: the order of
//     Roles, admin first). No role: the sign-in is refused.
//   - ScopeClaim holds grid codes (a string or a list); absent or empty is
//     the whole district, as for a user with no scope.
//   - UnitClaim holds a handler's unit.
type ClaimMapping struct {
	RoleClaim  string
	ScopeClaim string
	UnitClaim  string
	RoleMap    []RoleMapping // in order of precedence
}

// RoleMapping maps one claim value to a role.
type RoleMapping struct {
	Value string
	Role  Role
}

// ParseRoleMap reads "value=role,value=role" (empty: no map).
func ParseRoleMap(s string) ([]RoleMapping, error) {
	var out []RoleMapping
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, r, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("role map entry %q: want value=role", part)
		}
		role, err := ParseRole(strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("role map entry %q: %w", part, err)
		}
		if role == RoleIntegration {
			return nil, fmt.Errorf("role map entry %q: integration is a role for other systems, not people", part)
		}
		out = append(out, RoleMapping{Value: strings.TrimSpace(v), Role: role})
	}
	return out, nil
}

// ErrNoRole is a token whose claims map to no role.
var ErrNoRole = errors.New("the identity provider's token grants no citygrid role")

// Grant maps claims to a user named for the token's subject (OIDCUserName),
// with its display name from name, preferred_username or email. The user
// still needs Validate (a handler without a unit, a scoped admin).
func (m ClaimMapping) Grant(sub string, claims map[string]any) (User, error) {
	u := User{Name: OIDCUserName(sub), Scope: []string{}}
	for _, k := range []string{"name", "preferred_username", "email"} {
		if s, ok := claims[k].(string); ok && s != "" {
			u.DisplayName = s
			break
		}
	}
	if len(u.DisplayName) > 200 {
		u.DisplayName = u.DisplayName[:200]
	}
	values, err := claimStrings(claims, m.RoleClaim)
	if err != nil {
		return u, err
	}
	table := m.RoleMap
	if len(table) == 0 {
		for _, r := range Roles {
			if r != RoleIntegration {
				table = append(table, RoleMapping{Value: string(r), Role: r})
			}
		}
	}
found:
	for _, e := range table {
		for _, v := range values {
			if v == e.Value {
				u.Role = e.Role
				break found
			}
		}
	}
	if u.Role == "" {
		return u, fmt.Errorf("%w (claim %q: %s)", ErrNoRole, m.RoleClaim, quoteSome(values))
	}
	if u.Scope, err = claimStrings(claims, m.ScopeClaim); err != nil {
		return u, err
	}
	units, err := claimStrings(claims, m.UnitClaim)
	switch {
	case err != nil:
		return u, err
	case len(units) > 1:
		return u, fmt.Errorf("claim %q holds %d units: a user has one", m.UnitClaim, len(units))
	case len(units) == 1:
		u.Unit = units[0]
	}
	return u, nil
}

// claimStrings reads a claim that is absent, a string or a list of strings.
func claimStrings(claims map[string]any, name string) ([]string, error) {
	if name == "" {
		return []string{}, nil
	}
	switch v := claims[name].(type) {
	case nil:
		return []string{}, nil
	case string:
		if v == "" {
			return []string{}, nil
		}
		return []string{v}, nil
	case []any:
		if len(v) > 1000 {
			return nil, fmt.Errorf("claim %q holds more than 1000 values", name)
		}
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("claim %q holds a %T: want strings", name, x)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("claim %q is a %T: want a string or a list of strings", name, v)
	}
}

func quoteSome(vs []string) string {
	if len(vs) == 0 {
		return "absent"
	}
	if len(vs) > 5 {
		vs = vs[:5]
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		if len(v) > 40 {
			v = v[:40]
		}
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// oidcSubject is a subject that can go into a user name as it is.
var oidcSubject = regexp.MustCompile(`^[\p{L}\p{N}._@-]{1,59}$`)

// OIDCUserName is the user name of the identity provider's subject sub:
// "oidc." and the subject, or, when it does not fit a user name, "oidc."
// and 32 hex digits of its SHA-256. A person's user of the same name (made
// with a password) is never taken over: see OIDCPasswordHash.
func OIDCUserName(sub string) string {
	if oidcSubject.MatchString(sub) {
		return "oidc." + sub
	}
	h := sha256.Sum256([]byte(sub))
	return "oidc." + hex.EncodeToString(h[:16])
}

// OIDCPasswordHash is the password hash of a user the identity provider
// signs in: no password matches it, and the store updates only users that
// have it (a person's user of the same name is never taken over).
const OIDCPasswordHash = "!oidc"
