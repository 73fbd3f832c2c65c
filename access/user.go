package access

import (
	"regexp"
	"strconv"
	"time"
)

// User is a person who signs in (issue 13): the same role, scope and unit
// as a key, and a password instead of a token. The password hash never
// leaves the store but to be checked: it is not in the JSON.
type User struct {
	ID           int64     `json:"-"`
	Name         string    `json:"name"` // the user name signed in with; names the user in histories and the audit
	DisplayName  string    `json:"display_name"`
	Role         Role      `json:"role"`
	Scope        []string  `json:"scope"` // empty: the whole district
	Unit         string    `json:"unit,omitempty"`
	Disabled     bool      `json:"disabled"`
	Demo         bool      `json:"demo"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// IDString is the user's id as the API writes it.
func (u *User) IDString() string { return strconv.FormatInt(u.ID, 10) }

// userNamePattern keeps user names to what is typed at a sign-in form and
// read in a log: letters, digits and . _ - @, 1 to 64 of them.
var userNamePattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$`)

// Validate checks a user about to be stored: a well-formed name, a display
// name of reasonable length, and the grant rules every credential shares
// (ValidateGrant). Integrations are other systems: they get keys.
func (u *User) Validate() error {
	switch {
	case !userNamePattern.MatchString(u.Name):
		return fieldErr("name", "a user name is 1 to 64 letters, digits or . _ - @, starting with a letter or digit")
	case len(u.DisplayName) > 200:
		return fieldErr("display_name", "display_name is longer than 200 bytes")
	case u.Role == RoleIntegration:
		return fieldErr("role", "integration is a role for other systems: give them an API key, not a user")
	}
	return ValidateGrant("user", u.Role, u.Scope, u.Unit, "")
}

// Principal is who a request signed in as this user acts as.
func (u *User) Principal() *Principal {
	return &Principal{UserID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Scope: u.Scope, Unit: u.Unit}
}
