package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/project"
)

// returnedTwiceSQL lists the open cases handlers returned (退单) at least
// twice since their last settlement, with the count.
const returnedTwiceSQL = `
SELECT e.case_id, count(*) FROM case_events e
JOIN cases c ON c.id = e.case_id AND case_status_open(c.status)
WHERE e.kind = 'returned'
  AND e.at > COALESCE((SELECT max(s.at) FROM case_dispute_settlements s WHERE s.case_id = e.case_id), '-infinity')
GROUP BY e.case_id HAVING count(*) >= 2`

// ReturnedTwice returns the open cases returned twice or more since they
// were last settled, with their number of returns.
func (s *ProjectStore) ReturnedTwice(ctx context.Context) (map[int64]int, error) {
	rows, err := s.db.Query(ctx, returnedTwiceSQL)
	if err != nil {
		return nil, fmt.Errorf("returned cases: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("returned cases: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

const settledCasesSQL = `SELECT DISTINCT case_id FROM case_dispute_settlements`

// SettledCases returns the cases whose dispute was ever settled.
func (s *ProjectStore) SettledCases(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.db.Query(ctx, settledCasesSQL)
	if err != nil {
		return nil, fmt.Errorf("settled cases: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("settled cases: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

const insertSettlementSQL = `
INSERT INTO case_dispute_settlements (case_id, at, actor, unit, grid, project_id, note) VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6, $7)`

// Settle records a settlement, with its audit row.
func (s *ProjectStore) Settle(ctx context.Context, st project.Settlement) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("settle case %d: %w", st.CaseID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := settle(ctx, tx, st); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func settle(ctx context.Context, tx pgx.Tx, st project.Settlement) error {
	var pid any
	if st.ProjectID != 0 {
		pid = st.ProjectID
	}
	if _, err := tx.Exec(ctx, insertSettlementSQL, st.CaseID, st.At, st.Actor, st.Unit, st.Grid, pid, st.Note); err != nil {
		return fmt.Errorf("settle case %d: %w", st.CaseID, err)
	}
	detail := "owner " + st.Unit
	if st.ProjectID != 0 {
		detail = "escalated to project " + strconv.FormatInt(st.ProjectID, 10)
	}
	return audit(ctx, tx, access.Entry{Action: "dispute.settle", ObjectType: "case", ObjectID: strconv.FormatInt(st.CaseID, 10), Detail: detail})
}

// Escalate links a disputed case to a project (the project's event
// history says so) and settles the dispute, in one transaction.
func (s *ProjectStore) Escalate(ctx context.Context, projectID int64, st project.Settlement) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("escalate case %d: %w", st.CaseID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := linkCases(ctx, tx, projectID, []int64{st.CaseID}, st.At); err != nil {
		return err
	}
	ev := project.NewEvent(st.At, st.Actor, "escalated", st.Note, map[string]string{"case": strconv.FormatInt(st.CaseID, 10)})
	if err := writeProjectEvents(ctx, tx, projectID, []project.Event{ev}); err != nil {
		return err
	}
	st.ProjectID = projectID
	if err := settle(ctx, tx, st); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
