package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"citygrid/postgres"
)

// AuditStore is the audit trail (postgres.AuditStore): refusals are
// recorded through it, changes by the stores that make them.
type AuditStore interface {
	Auditor
	List(ctx context.Context, f postgres.AuditFilter) ([]postgres.AuditRow, error)
}

// handleAudit serves GET /v1/audit: newest first, filtered by time, action
// (exact, or a prefix ending in "."), object, key and outcome, paged by an
// opaque cursor.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "from", "to", "action", "object_type", "object_id", "key_id", "outcome", "limit", "cursor"); err != nil {
		return err
	}
	f := postgres.AuditFilter{Action: q.Get("action"), ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"), Limit: 100}
	var err error
	if v := q.Get("from"); v != "" {
		if f.From, err = parseTime(v, "from"); err != nil {
			return err
		}
	}
	if v := q.Get("to"); v != "" {
		if f.To, err = parseTime(v, "to"); err != nil {
			return err
		}
	}
	if v := q.Get("key_id"); v != "" {
		if f.KeyID, err = strconv.ParseInt(v, 10, 64); err != nil || f.KeyID <= 0 {
			return invalid("key_id %q is not a key id", truncate(v, 40))
		}
	}
	switch f.Outcome = q.Get("outcome"); f.Outcome {
	case "", "allow", "deny":
	default:
		return invalid("outcome %q: want allow or deny", truncate(f.Outcome, 40))
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = parseInt(v, "limit", 1, 1000); err != nil {
			return err
		}
	}
	if v := q.Get("cursor"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before <= 0 {
			return invalid("cursor %q is not one this endpoint gave", truncate(v, 40))
		}
	}
	rows, err := s.audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	var next any
	if len(rows) == f.Limit {
		next = rows[len(rows)-1].ID
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": rows, "next": next})
}
