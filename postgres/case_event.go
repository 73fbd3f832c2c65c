package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"citygrid/cases"
)

// findEventsSQL lists events with their cases and, for each, the case's
// status right after it: the last status an event up to it moved the case
// to, or the status the case arrived in (the from of its first status
// change, as caseHistorySQL reads it), and whether a merge came by then.
// %s is the condition built by FindEvents from fixed fragments.
const findEventsSQL = `
SELECT ` + caseColumns + `,
       e.id, e.at, e.actor, e.kind, COALESCE(e.from_status, ''), COALESCE(e.to_status, ''), e.note, e.data,
       COALESCE((SELECT e2.to_status FROM case_events e2 WHERE e2.case_id = e.case_id AND e2.to_status IS NOT NULL
                   AND (e2.at, e2.id) <= (e.at, e.id) ORDER BY e2.at DESC, e2.id DESC LIMIT 1),
                (SELECT e3.from_status FROM case_events e3 WHERE e3.case_id = e.case_id AND e3.from_status IS NOT NULL
                   ORDER BY e3.at, e3.id LIMIT 1),
                c.status),
       EXISTS (SELECT 1 FROM case_events e4 WHERE e4.case_id = e.case_id AND e4.kind = 'merge' AND (e4.at, e4.id) <= (e.at, e.id))
FROM case_events e JOIN cases c ON c.id = e.case_id
WHERE e.kind <> 'reported_by' AND %s
ORDER BY e.at, e.id
LIMIT %s`

// FindEvents lists the events f selects, oldest first (ties by id), at
// most f.Limit of them.
func (s *CaseStore) FindEvents(ctx context.Context, f cases.EventFilter) ([]cases.CaseEvent, error) {
	var q caseQuery
	q.where = append(q.where, "TRUE")
	if f.CaseIDs != nil {
		q.add("e.case_id = ANY(%s::bigint[])", f.CaseIDs)
	}
	if f.From != nil {
		q.add("e.at >= %s", *f.From)
	}
	if f.To != nil {
		q.add("e.at < %s", *f.To)
	}
	if len(f.Categories) > 0 {
		q.add("c.category ^@ ANY(%s::text[])", f.Categories)
	}
	addRestriction(&q, f.Restrict, false)
	sql := fmt.Sprintf(findEventsSQL, strings.Join(q.where, " AND "), q.arg(f.Limit))
	rows, err := s.db.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	var out []cases.CaseEvent
	for rows.Next() {
		var (
			ev     cases.CaseEvent
			data   []byte
			status string
		)
		c, err := scanCase(rows, &ev.ID, &ev.At, &ev.Actor, &ev.Kind, &ev.From, &ev.To, &ev.Note, &data, &status, &ev.Merged)
		if err != nil {
			return nil, fmt.Errorf("find events: %w", err)
		}
		if len(data) > 0 {
			ev.Data = json.RawMessage(data)
		}
		ev.Case, ev.Status = c, cases.Status(status)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return out, nil
}
