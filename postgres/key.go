package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid"
	"citygrid/access"
)

// KeyStore keeps API keys (their hashes) and writes each change to the
// audit trail in the same transaction.
type KeyStore struct{ db DBTX }

// NewKeyStore returns a store on db.
func NewKeyStore(db DBTX) *KeyStore { return &KeyStore{db: db} }

const keyColumns = `id, name, role, scope, COALESCE(unit, ''), COALESCE(source, ''), demo, created_at, expires_at, revoked_at`

func scanKey(row pgx.Row) (*access.Key, error) {
	var k access.Key
	var role string
	if err := row.Scan(&k.ID, &k.Name, &role, &k.Scope, &k.Unit, &k.Source, &k.Demo, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.Role = access.Role(role)
	if k.Scope == nil {
		k.Scope = []string{}
	}
	return &k, nil
}

const insertKeySQL = `
INSERT INTO api_keys (name, role, scope, unit, source, token_sha256, demo, expires_at)
VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6, $7, $8)
RETURNING ` + keyColumns

const unknownGridsSQL = `SELECT array_agg(c ORDER BY c) FROM unnest($1::text[]) c WHERE NOT EXISTS (SELECT 1 FROM grids WHERE code = c)`

// CreateKey stores k under the token's hash (k.Validate first). A scope
// naming a grid or a unit that does not exist is refused (CodeUnprocessable).
func (s *KeyStore) CreateKey(ctx context.Context, k access.Key, hash []byte) (*access.Key, error) {
	if k.Scope == nil {
		k.Scope = []string{}
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := checkGrant(ctx, tx, k.Scope, k.Unit); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	stored, err := scanKey(tx.QueryRow(ctx, insertKeySQL, k.Name, string(k.Role), k.Scope, k.Unit, k.Source, hash, k.Demo, k.ExpiresAt))
	if err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "key.create", ObjectType: "key", ObjectID: stored.IDString(),
		Detail: fmt.Sprintf("role %s, name %q, scope %v", stored.Role, stored.Name, stored.Scope)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	return stored, nil
}

// KeyByHash returns the key stored under hash, or nil when there is none
// (revoked and expired keys are returned: the caller says why they fail).
func (s *KeyStore) KeyByHash(ctx context.Context, hash []byte) (*access.Key, error) {
	k, err := scanKey(s.db.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE token_sha256 = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up key: %w", err)
	}
	return k, nil
}

// KeyByID returns key id, or nil when there is none.
func (s *KeyStore) KeyByID(ctx context.Context, id int64) (*access.Key, error) {
	k, err := scanKey(s.db.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up key %d: %w", id, err)
	}
	return k, nil
}

// Keys lists every key, newest first.
func (s *KeyStore) Keys(ctx context.Context) ([]*access.Key, error) {
	rows, err := s.db.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []*access.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey revokes key id (again is a no-op) and returns it; an unknown id
// is CodeNotFound.
func (s *KeyStore) RevokeKey(ctx context.Context, id int64, now time.Time) (*access.Key, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke key: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	k, err := scanKey(tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING `+keyColumns, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "key %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("revoke key: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "key.revoke", ObjectType: "key", ObjectID: strconv.FormatInt(id, 10)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("revoke key: %w", err)
	}
	return k, nil
}

// RevokeDemoKeys revokes every key an earlier demo start issued.
func (s *KeyStore) RevokeDemoKeys(ctx context.Context, now time.Time) (int, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke demo keys: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE demo AND revoked_at IS NULL`, now)
	if err != nil {
		return 0, fmt.Errorf("revoke demo keys: %w", err)
	}
	if tag.RowsAffected() > 0 {
		if err := audit(ctx, tx, access.Entry{Action: "key.revoke", ObjectType: "key", ObjectID: "demo",
			Detail: fmt.Sprintf("%d demo keys of an earlier start", tag.RowsAffected())}); err != nil {
			return 0, err
		}
	}
	return int(tag.RowsAffected()), tx.Commit(ctx)
}

// checkGrant refuses (CodeUnprocessable) a scope naming a grid or a unit
// that does not exist: a key's or a user's alike.
func checkGrant(ctx context.Context, tx DBTX, scope []string, unit string) error {
	var unknown []string
	if err := tx.QueryRow(ctx, unknownGridsSQL, scope).Scan(&unknown); err != nil {
		return err
	}
	if len(unknown) > 0 {
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "scope: no grid %q", unknown)
		e.Details = map[string]any{"field": "scope"}
		return e
	}
	if unit != "" {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, unit).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			e := citygrid.Errorf(citygrid.CodeUnprocessable, "unit: %q is not registered", unit)
			e.Details = map[string]any{"field": "unit"}
			return e
		}
	}
	return nil
}
