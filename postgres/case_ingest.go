package postgres

import (
	"citygrid/access"
	"citygrid/cases"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// createCaseStageSQL drops a leftover first: ON COMMIT DROP fires only at
// the top-level commit, and a caller's transaction may ingest twice.
const createCaseStageSQL = `
DROP TABLE IF EXISTS pg_temp.case_stage;
CREATE TEMP TABLE case_stage (
    n integer, id bigint, source text, external_id text, category text, title text, description text, priority smallint,
    lng float8, lat float8, h3 bigint, grid text, unit text, status text,
    reported_at timestamptz, due_at timestamptz, closed_at timestamptz, properties jsonb, unit_rule text,
    filed_at timestamptz, overdue_at timestamptz, paused_at timestamptz, merged_into bigint, version integer, updated_at timestamptz
) ON COMMIT DROP`

var caseStageColumns = []string{"n", "id", "source", "external_id", "category", "title", "description", "priority",
	"lng", "lat", "h3", "grid", "unit", "status", "reported_at", "due_at", "closed_at", "properties", "unit_rule",
	"filed_at", "overdue_at", "paused_at", "merged_into", "version", "updated_at"}

// reserveCaseIDsSQL takes ids for a batch ($1 of them) from the cases'
// sequence, so that the batch's events and merges can name their cases
// before they are stored. Ids of cases that turn out to be stored already
// are simply not used.
const reserveCaseIDsSQL = `SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1)`

// findCaseIDsSQL finds stored cases by (source, external_id).
const findCaseIDsSQL = `
SELECT c.source, c.external_id, c.id FROM cases c
JOIN unnest($1::text[], $2::text[]) AS k (source, external_id) USING (source, external_id)`

// insertStagedCasesSQL moves the staged rows into cases, skipping those
// whose (source, external_id) is already stored (or repeated in the batch:
// the first wins), and returns the ids it stored. A case's creation is its
// row (reported_at, and the status it arrived in, see CaseHistory), not an
// event, which halves the writes of an ingest.
const insertStagedCasesSQL = `
INSERT INTO cases (id, source, external_id, category, title, description, priority, geom, h3, grid, unit,
                   status, reported_at, due_at, closed_at, properties, unit_rule, filed_at, overdue_at, paused_at, merged_into,
                   version, updated_at)
SELECT id, source, external_id, category, title, description, priority, ST_SetSRID(ST_MakePoint(lng, lat), 4326),
       h3, grid, unit, status, reported_at, due_at, closed_at, properties, unit_rule, filed_at, overdue_at, paused_at, merged_into,
       version, COALESCE(updated_at, now())
FROM (SELECT DISTINCT ON (source, external_id) * FROM case_stage ORDER BY source, external_id, n) s
ORDER BY n
ON CONFLICT (source, external_id) DO NOTHING
RETURNING id`

var caseEventColumns = []string{"case_id", "at", "actor", "kind", "from_status", "to_status", "note", "data"}

// InsertCases stores prepared cases with COPY through a staging table, in
// one transaction, and returns how many were new: the rest were duplicates
// of stored cases (idempotent on source and external_id). Each case stored
// gets its id (ID), and the others keep ID 0: the caller applies exactly
// the stored ones to its indexes.
func (s *CaseStore) InsertCases(ctx context.Context, cs []*cases.Case) (int, error) {
	recs := make([]cases.Record, len(cs))
	for i, c := range cs {
		recs[i].Case = c
	}
	return s.InsertRecords(ctx, recs)
}

// InsertRecords stores cases with their histories as InsertCases stores
// cases; the events of a case stored already are not stored again. A
// duplicate's merge into a case named by source and external id (stored
// before, or in the batch) is completed as UpdateCase writes a merge:
// merged_into, {"into": id} on its merge event, and a "merged" event with
// {"duplicate": id} on the original.
func (s *CaseStore) InsertRecords(ctx context.Context, recs []cases.Record) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	ids, err := reserveCaseIDs(ctx, tx, len(recs))
	if err != nil {
		return 0, err
	}
	into, err := mergeTargets(ctx, tx, recs, ids)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, createCaseStageSQL); err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		c := recs[i].Case
		var merged any
		if id, ok := into[i]; ok {
			merged = id
		}
		row := []any{i, ids[i], c.Source, c.ExternalID, c.Category, c.Title, c.Description, int16(c.Priority),
			c.Location[0], c.Location[1], int64(c.Cell), nullIfEmpty(c.Grid), nullIfEmpty(c.Unit), string(c.Status),
			c.ReportedAt, c.DueAt, closedAtFor(c), nullJSON(c.Properties), nullIfEmpty(c.UnitRule),
			c.FiledAt, c.OverdueAt, c.PausedAt, merged, int32(max(c.Version, 1)), nullTime(c.UpdatedAt)}
		i++
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"case_stage"}, caseStageColumns, src); err != nil {
		return 0, fmt.Errorf("insert cases: copy: %w", err)
	}
	if err := checkCategoriesKept(ctx, tx, distinctCategories(recs)); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, insertStagedCasesSQL)
	if err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	if err := copyEvents(ctx, tx, recs, ids, stored, into); err != nil {
		return 0, err
	}
	var pos uint64
	if len(stored) > 0 {
		if err := audit(ctx, tx, access.Entry{Action: "cases.bulk", ObjectType: "cases", Detail: fmt.Sprintf("%d cases stored of %d", len(stored), len(recs))}); err != nil {
			return 0, err
		}
		if pos, err = written(ctx, tx); err != nil {
			return 0, fmt.Errorf("insert cases: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("insert cases: %w", err)
	}
	if pos != 0 {
		record(ctx, pos)
	}
	identify(recs, ids, stored, into)
	return len(stored), nil
}

// identify gives the stored cases of recs what the database gave them, so
// that the caller can apply them to its indexes as they are stored: their
// ids, version 1 if none, and the case each duplicate was merged into.
// Cases not stored (duplicates of stored ones) keep id 0.
func identify(recs []cases.Record, ids, stored []int64, into map[int]int64) {
	isStored := make(map[int64]bool, len(stored))
	for _, id := range stored {
		isStored[id] = true
	}
	for i, r := range recs {
		if !isStored[ids[i]] {
			continue
		}
		r.Case.ID, r.Case.Version = ids[i], max(r.Case.Version, 1)
		if orig, ok := into[i]; ok {
			r.Case.MergedInto = &orig
		}
	}
}

func reserveCaseIDs(ctx context.Context, tx pgx.Tx, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, reserveCaseIDsSQL, n)
	if err != nil {
		return nil, fmt.Errorf("insert cases: reserve ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert cases: reserve ids: %w", err)
	}
	return ids, nil
}

// mergeTargets returns, by record, the id of the case each duplicate was
// merged into: a stored case, or else one of the batch.
func mergeTargets(ctx context.Context, tx pgx.Tx, recs []cases.Record, ids []int64) (map[int]int64, error) {
	var sources, externals []string
	for _, r := range recs {
		if r.MergeInto != nil {
			sources, externals = append(sources, r.MergeInto.Source), append(externals, r.MergeInto.ExternalID)
		}
	}
	if len(sources) == 0 {
		return nil, nil
	}
	found := map[cases.SourceKey]int64{}
	// The batch's own first, then the stored, which win: a case of the
	// batch stored already is not stored again.
	for i, r := range recs {
		k := cases.SourceKey{Source: r.Case.Source, ExternalID: r.Case.ExternalID}
		if _, dup := found[k]; !dup {
			found[k] = ids[i]
		}
	}
	rows, err := tx.Query(ctx, findCaseIDsSQL, sources, externals)
	if err != nil {
		return nil, fmt.Errorf("insert cases: merges: %w", err)
	}
	var (
		k  cases.SourceKey
		id int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&k.Source, &k.ExternalID, &id}, func() error {
		found[k] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("insert cases: merges: %w", err)
	}
	into := map[int]int64{}
	for i, r := range recs {
		if r.MergeInto == nil {
			continue
		}
		id, ok := found[*r.MergeInto]
		if !ok {
			return nil, fmt.Errorf("insert cases: case %s/%s is merged into %s/%s, which is not stored",
				r.Case.Source, r.Case.ExternalID, r.MergeInto.Source, r.MergeInto.ExternalID)
		}
		into[i] = id
	}
	return into, nil
}

// copyEvents stores, straight into case_events, the events of the records
// whose cases were stored, in order, completing the merges.
func copyEvents(ctx context.Context, tx pgx.Tx, recs []cases.Record, ids, stored []int64, into map[int]int64) error {
	isStored := make(map[int64]bool, len(stored))
	for _, id := range stored {
		isStored[id] = true
	}
	var rows [][]any
	add := func(id int64, e cases.Event) {
		rows = append(rows, []any{id, e.At, e.Actor, e.Kind, nullIfEmpty(e.From), nullIfEmpty(e.To), e.Note, nullJSON(e.Data)})
	}
	for i, r := range recs {
		if !isStored[ids[i]] {
			continue
		}
		for _, e := range r.Events {
			if orig, ok := into[i]; ok && e.Kind == "merge" {
				e.Data, _ = json.Marshal(map[string]int64{"into": orig})
				add(ids[i], e)
				e.Kind, e.From, e.To = "merged", "", ""
				e.Data, _ = json.Marshal(map[string]int64{"duplicate": ids[i]})
				add(orig, e)
				continue
			}
			add(ids[i], e)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"case_events"}, caseEventColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert cases: events: %w", err)
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// distinctCategories returns the category codes of recs, each once.
func distinctCategories(recs []cases.Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range recs {
		if c := r.Case.Category; !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
