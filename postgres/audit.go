package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"citygrid/access"
)

const insertAuditSQL = `
INSERT INTO audit_log (actor, role, key_id, action, object_type, object_id, outcome, http_status,
                       from_version, to_version, detail, request_id, client_addr, user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// audit writes e on db (the change's own transaction), naming the
// principal and the request that ctx carries.
func audit(ctx context.Context, db DBTX, e access.Entry) error {
	var (
		actor, role string
		keyID       *int64
		userID      *int64
	)
	if p := access.PrincipalFrom(ctx); p != nil {
		actor, role = p.Name, string(p.Role)
		if p.KeyID != 0 {
			keyID = &p.KeyID
		}
		if p.UserID != 0 {
			userID = &p.UserID
		}
	}
	req := access.RequestFrom(ctx)
	var status *int
	if e.HTTPStatus != 0 {
		status = &e.HTTPStatus
	}
	_, err := db.Exec(ctx, insertAuditSQL, auditText(actor, 200), role, keyID, e.Action, e.ObjectType, auditText(e.ObjectID, 300),
		e.Outcome(), status, e.FromVersion, e.ToVersion, auditText(e.Detail, 2000), auditText(req.ID, 100), auditText(req.Addr, 100), userID)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// auditText makes text from a request fit for the trail: valid UTF-8 (a
// request id or path that is not would make PostgreSQL refuse the row, and
// with it the change or the record of a refusal), no control characters,
// at most max bytes.
func auditText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}

// AuditStore reads the audit trail and records refused attempts (changes
// are recorded by the stores that make them, in their transactions).
type AuditStore struct{ db DBTX }

// NewAuditStore returns a store on db.
func NewAuditStore(db DBTX) *AuditStore { return &AuditStore{db: db} }

// Record writes one entry on its own (a refusal: there is no change to
// share a transaction with).
func (s *AuditStore) Record(ctx context.Context, e access.Entry) error { return audit(ctx, s.db, e) }

// AuditFilter selects audit rows; zero fields do not filter.
type AuditFilter struct {
	From, To   time.Time
	Action     string // exact, or a prefix ending in "." (case.)
	ObjectType string
	ObjectID   string
	KeyID      int64
	Outcome    string
	Before     int64 // cursor: rows with a smaller id
	Limit      int
}

// AuditRow is one stored audit entry.
type AuditRow struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Role        string    `json:"role"`
	KeyID       *string   `json:"key_id"`
	UserID      *string   `json:"user_id"`
	Action      string    `json:"action"`
	ObjectType  string    `json:"object_type"`
	ObjectID    string    `json:"object_id"`
	Outcome     string    `json:"outcome"`
	HTTPStatus  *int      `json:"http_status"`
	FromVersion *int      `json:"from_version"`
	ToVersion   *int      `json:"to_version"`
	Detail      string    `json:"detail"`
	RequestID   string    `json:"request_id"`
	ClientAddr  string    `json:"client_addr"`
}

const listAuditSQL = `
SELECT id, at, actor, role, key_id, action, object_type, object_id, outcome, http_status, from_version, to_version,
       detail, request_id, client_addr, user_id
FROM audit_log
WHERE ($1::timestamptz IS NULL OR at >= $1)
  AND ($2::timestamptz IS NULL OR at < $2)
  AND ($3 = '' OR action = $3 OR (right($3, 1) = '.' AND starts_with(action, $3)))
  AND ($4 = '' OR object_type = $4)
  AND ($5 = '' OR object_id = $5)
  AND ($6 = 0 OR key_id = $6)
  AND ($7 = '' OR outcome = $7)
  AND ($8 = 0 OR id < $8)
ORDER BY id DESC
LIMIT $9`

// List returns the rows f selects, newest first.
func (s *AuditStore) List(ctx context.Context, f AuditFilter) ([]AuditRow, error) {
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.db.Query(ctx, listAuditSQL, from, to, f.Action, f.ObjectType, f.ObjectID, f.KeyID, f.Outcome, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	out := []AuditRow{}
	for rows.Next() {
		var (
			r     AuditRow
			id    int64
			keyID *int64
			user  *int64
		)
		if err := rows.Scan(&id, &r.At, &r.Actor, &r.Role, &keyID, &r.Action, &r.ObjectType, &r.ObjectID, &r.Outcome,
			&r.HTTPStatus, &r.FromVersion, &r.ToVersion, &r.Detail, &r.RequestID, &r.ClientAddr, &user); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		r.ID = strconv.FormatInt(id, 10)
		if keyID != nil {
			k := strconv.FormatInt(*keyID, 10)
			r.KeyID = &k
		}
		if user != nil {
			u := strconv.FormatInt(*user, 10)
			r.UserID = &u
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
