package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid"
	"citygrid/access"
)

// UserStore keeps users and their sessions, and writes each change to the
// audit trail in the same transaction.
type UserStore struct{ db DBTX }

// NewUserStore returns a store on db.
func NewUserStore(db DBTX) *UserStore { return &UserStore{db: db} }

var _ access.SessionLookup = (*UserStore)(nil)

const userColumns = `u.id, u.name, u.display_name, u.role, u.scope, COALESCE(u.unit, ''), u.disabled, u.demo, u.password_hash, u.created_at, u.updated_at`

func scanUser(row pgx.Row, extra ...any) (*access.User, error) {
	var u access.User
	var role string
	dest := append([]any{&u.ID, &u.Name, &u.DisplayName, &role, &u.Scope, &u.Unit, &u.Disabled, &u.Demo, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role = access.Role(role)
	if u.Scope == nil {
		u.Scope = []string{}
	}
	return &u, nil
}

const insertUserSQL = `
INSERT INTO users AS u (name, display_name, role, scope, unit, demo, password_hash)
VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7)
RETURNING ` + userColumns

// CreateUser stores u (u.Validate first; u.PasswordHash set). A scope
// naming a grid or a unit that does not exist is refused
// (CodeUnprocessable), a name in use is a conflict.
func (s *UserStore) CreateUser(ctx context.Context, u access.User) (*access.User, error) {
	if u.Scope == nil {
		u.Scope = []string{}
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := checkGrant(ctx, tx, u.Scope, u.Unit); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	stored, err := scanUser(tx.QueryRow(ctx, insertUserSQL, u.Name, u.DisplayName, string(u.Role), u.Scope, u.Unit, u.Demo, u.PasswordHash))
	if err != nil {
		return nil, translateWriteError("create user", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "user.create", ObjectType: "user", ObjectID: stored.Name,
		Detail: fmt.Sprintf("role %s, scope %v, unit %q", stored.Role, stored.Scope, stored.Unit)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return stored, nil
}

// UserByName returns the user of that name, or nil when there is none.
func (s *UserStore) UserByName(ctx context.Context, name string) (*access.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *UserStore) Users(ctx context.Context) ([]*access.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []*access.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser changes user name under its row lock: change edits the
// stored user (and validates it), the store checks its grids and unit and
// writes it. Disabling a user or changing its password ends its sessions.
// An unknown name is CodeNotFound.
func (s *UserStore) UpdateUser(ctx context.Context, name string, now time.Time, change func(*access.User) error) (*access.User, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	old, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = $1 FOR UPDATE`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "user %q not found", name)
	} else if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	u := *old
	u.Scope = append([]string{}, old.Scope...)
	if err := change(&u); err != nil {
		return nil, err
	}
	if err := checkGrant(ctx, tx, u.Scope, u.Unit); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	stored, err := scanUser(tx.QueryRow(ctx, `
UPDATE users u SET display_name = $2, role = $3, scope = $4, unit = NULLIF($5, ''), disabled = $6, password_hash = $7, updated_at = $8
WHERE u.id = $1 RETURNING `+userColumns, old.ID, u.DisplayName, string(u.Role), u.Scope, u.Unit, u.Disabled, u.PasswordHash, now))
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	changed := userChanges(old, stored)
	if stored.Disabled && !old.Disabled || stored.PasswordHash != old.PasswordHash {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, old.ID); err != nil {
			return nil, fmt.Errorf("update user: end sessions: %w", err)
		}
	}
	if err := audit(ctx, tx, access.Entry{Action: "user.update", ObjectType: "user", ObjectID: stored.Name,
		Detail: strings.Join(changed, ", ")}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return stored, nil
}

// userChanges names what changed, for the audit trail (never the hash).
func userChanges(a, b *access.User) []string {
	var out []string
	if a.DisplayName != b.DisplayName {
		out = append(out, fmt.Sprintf("display_name %q", b.DisplayName))
	}
	if a.Role != b.Role {
		out = append(out, fmt.Sprintf("role %s → %s", a.Role, b.Role))
	}
	if fmt.Sprint(a.Scope) != fmt.Sprint(b.Scope) {
		out = append(out, fmt.Sprintf("scope %v → %v", a.Scope, b.Scope))
	}
	if a.Unit != b.Unit {
		out = append(out, fmt.Sprintf("unit %q → %q", a.Unit, b.Unit))
	}
	if a.Disabled != b.Disabled {
		out = append(out, fmt.Sprintf("disabled %v", b.Disabled))
	}
	if a.PasswordHash != b.PasswordHash {
		out = append(out, "password")
	}
	return out
}

// ResetDemoUser makes (or resets) a demo user: its grant, a new password
// hash, enabled, and no sessions of an earlier start.
func (s *UserStore) ResetDemoUser(ctx context.Context, u access.User) (*access.User, error) {
	if u.Scope == nil {
		u.Scope = []string{}
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("reset demo user: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	stored, err := scanUser(tx.QueryRow(ctx, `
INSERT INTO users AS u (name, display_name, role, scope, unit, demo, password_hash)
VALUES ($1, $2, $3, $4, NULLIF($5, ''), true, $6)
ON CONFLICT (name) DO UPDATE SET display_name = $2, role = $3, scope = $4, unit = NULLIF($5, ''), demo = true,
    password_hash = $6, disabled = false, updated_at = now()
WHERE u.demo -- a person's user of that name is never taken over
RETURNING `+userColumns, u.Name, u.DisplayName, string(u.Role), u.Scope, u.Unit, u.PasswordHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("reset demo user: a user %q exists that the demo did not make", u.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("reset demo user: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, stored.ID); err != nil {
		return nil, fmt.Errorf("reset demo user: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "user.reset", ObjectType: "user", ObjectID: stored.Name,
		Detail: fmt.Sprintf("demo: role %s, scope %v, unit %q, new password", stored.Role, stored.Scope, stored.Unit)}); err != nil {
		return nil, err
	}
	return stored, tx.Commit(ctx)
}

// CreateSession stores a session of user u under the token's hash and
// drops sessions that have ended.
func (s *UserStore) CreateSession(ctx context.Context, userID int64, hash []byte, csrf string, now, expires time.Time, idle time.Duration) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen <= $1 - $2::interval`, now, idle); err != nil {
		return fmt.Errorf("create session: expire old: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at, last_seen)
VALUES ($1, $2, $3, $4, $5, $4)`, hash, userID, csrf, now, expires); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "session.create", ObjectType: "session", ObjectID: fmt.Sprint(userID)}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SessionByHash returns the live session under hash with its user as
// stored now, marking it seen at now; none, expired or idle longer than
// idle is (nil, nil).
func (s *UserStore) SessionByHash(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (*access.Session, error) {
	var sess access.Session
	u, err := scanUser(s.db.QueryRow(ctx, `
UPDATE sessions s SET last_seen = GREATEST(s.last_seen, $2)
FROM users u
WHERE u.id = s.user_id AND s.token_sha256 = $1 AND s.expires_at > $2 AND s.last_seen > $2 - $3::interval
RETURNING `+userColumns+`, s.id, s.csrf_token, s.created_at, s.expires_at, s.last_seen`, hash, now, idle),
		&sess.ID, &sess.CSRFToken, &sess.CreatedAt, &sess.ExpiresAt, &sess.LastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	sess.UserID, sess.User = u.ID, u
	return &sess, nil
}

// DeleteSession ends the session under hash (none is no error).
func (s *UserStore) DeleteSession(ctx context.Context, hash []byte) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_sha256 = $1`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if tag.RowsAffected() > 0 {
		if err := audit(ctx, tx, access.Entry{Action: "session.delete", ObjectType: "session"}); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
