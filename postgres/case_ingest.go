package postgres

import (
	"citygrid/cases"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// createCaseStageSQL drops a leftover first: ON COMMIT DROP fires only at
// the top-level commit, and a caller's transaction may ingest twice.
const createCaseStageSQL = `
DROP TABLE IF EXISTS pg_temp.case_stage;
CREATE TEMP TABLE case_stage (
    source text, external_id text, category text, title text, description text, priority smallint,
    lng float8, lat float8, h3 bigint, grid text, unit text, status text,
    reported_at timestamptz, due_at timestamptz, closed_at timestamptz, properties jsonb, unit_rule text
) ON COMMIT DROP`

var caseStageColumns = []string{"source", "external_id", "category", "title", "description", "priority",
	"lng", "lat", "h3", "grid", "unit", "status", "reported_at", "due_at", "closed_at", "properties", "unit_rule"}

// insertStagedCasesSQL moves the staged rows into cases, skipping those
// whose (source, external_id) is already stored (or repeated in the batch:
// the first wins). A case's creation is its row (created_at, and the status
// it arrived in, see CaseHistory), not an event, which halves the writes of
// an ingest.
const insertStagedCasesSQL = `
WITH ins AS (
    INSERT INTO cases (source, external_id, category, title, description, priority, geom, h3, grid, unit,
                       status, reported_at, due_at, closed_at, properties, unit_rule)
    SELECT DISTINCT ON (source, external_id)
           source, external_id, category, title, description, priority, ST_SetSRID(ST_MakePoint(lng, lat), 4326),
           h3, grid, unit, status, reported_at, due_at, closed_at, properties, unit_rule
    FROM case_stage
    ORDER BY source, external_id
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins`

// InsertCases stores prepared cases with COPY through a staging table, in
// one transaction, and returns how many were new: the rest were duplicates
// of stored cases (idempotent on source and external_id). Call
// AnnounceBulk once the whole ingest is stored.
func (s *CaseStore) InsertCases(ctx context.Context, cases []*cases.Case) (int, error) {
	if len(cases) == 0 {
		return 0, nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, createCaseStageSQL); err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(cases) {
			return nil, nil
		}
		c := cases[i]
		i++
		return []any{c.Source, c.ExternalID, c.Category, c.Title, c.Description, int16(c.Priority),
			c.Location[0], c.Location[1], int64(c.Cell), nullIfEmpty(c.Grid), nullIfEmpty(c.Unit), string(c.Status),
			c.ReportedAt, c.DueAt, closedAtFor(c), nullJSON(c.Properties), nullIfEmpty(c.UnitRule)}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"case_stage"}, caseStageColumns, src); err != nil {
		return 0, fmt.Errorf("insert cases: copy: %w", err)
	}
	if err := checkCategoriesKept(ctx, tx, distinctCategories(cases)); err != nil {
		return 0, err
	}
	var n int
	if err := tx.QueryRow(ctx, insertStagedCasesSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	return n, nil
}

// AnnounceBulk tells other processes that a bulk ingest stored cases, so
// that they reload their case index once. InsertCases does not announce:
// an ingest is many batches, and an announcement per batch made every
// replica reload, and tell its browsers, once per batch.
func (s *CaseStore) AnnounceBulk(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, notifyCaseSQL, CasesChannel, s.Instance+" bulk"); err != nil {
		return fmt.Errorf("announce bulk ingest: %w", err)
	}
	return nil
}

// distinctCategories returns the category codes of cs, each once.
func distinctCategories(cs []*cases.Case) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		if !seen[c.Category] {
			seen[c.Category] = true
			out = append(out, c.Category)
		}
	}
	return out
}
