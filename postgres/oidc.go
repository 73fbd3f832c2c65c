package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid"
	"citygrid/access"
)

// SignInOIDCUser makes or updates the user an identity provider signed in
// (u: name, display name and grant from the token's claims, validated) and
// returns it as stored. A disabled user stays disabled and is returned so;
// a user of that name the provider did not make is a CodeForbidden; a
// scope or unit that does not exist is CodeUnprocessable. Each change is
// an audit row in the same transaction.
func (s *UserStore) SignInOIDCUser(ctx context.Context, u access.User, now time.Time) (*access.User, error) {
	if u.Scope == nil {
		u.Scope = []string{}
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc user: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := checkGrant(ctx, tx, u.Scope, u.Unit); err != nil {
		return nil, fmt.Errorf("oidc user: %w", err)
	}
	old, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = $1 FOR UPDATE`, u.Name))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		stored, err := scanUser(tx.QueryRow(ctx, insertUserSQL, u.Name, u.DisplayName, string(u.Role), u.Scope, u.Unit, false, access.OIDCPasswordHash))
		if err != nil {
			return nil, translateWriteError("oidc user", err)
		}
		if err := audit(ctx, tx, access.Entry{Action: "user.create", ObjectType: "user", ObjectID: stored.Name,
			Detail: fmt.Sprintf("by OpenID Connect: role %s, scope %v, unit %q", stored.Role, stored.Scope, stored.Unit)}); err != nil {
			return nil, err
		}
		return stored, tx.Commit(ctx)
	case err != nil:
		return nil, fmt.Errorf("oidc user: %w", err)
	case old.PasswordHash != access.OIDCPasswordHash:
		return nil, citygrid.Errorf(citygrid.CodeForbidden, "a user named %q exists that the identity provider did not make", u.Name)
	case old.Disabled:
		return old, nil
	}
	stored, err := scanUser(tx.QueryRow(ctx, `
UPDATE users u SET display_name = $2, role = $3, scope = $4, unit = NULLIF($5, ''), updated_at = $6
WHERE u.id = $1 RETURNING `+userColumns, old.ID, u.DisplayName, string(u.Role), u.Scope, u.Unit, now))
	if err != nil {
		return nil, fmt.Errorf("oidc user: %w", err)
	}
	if changed := userChanges(old, stored); len(changed) > 0 {
		if err := audit(ctx, tx, access.Entry{Action: "user.update", ObjectType: "user", ObjectID: stored.Name,
			Detail: "by OpenID Connect: " + fmt.Sprint(changed)}); err != nil {
			return nil, err
		}
	}
	return stored, tx.Commit(ctx)
}
