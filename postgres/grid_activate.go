package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"citygrid"
	"citygrid/access"
	"citygrid/grid"
)

// scopeReference is a stored list of grid codes that must follow a grid
// version: when a version retires a code, the lists naming it are
// rewritten through the successor mapping in the activation's transaction.
// Table and column names come from this fixed list only, never from a
// request.
type scopeReference struct {
	kind   string // as grid.Reference.Kind
	table  string
	name   string // the column naming the row for people
	column string // a text[] of grid codes
	live   string // rows whose references block activation
}

// scopeReferences are the lists rewritten on activation: key and user
// scopes, the areas of projects and campaigns given as grids (which block
// an activation while the project is active or the campaign not over), and
// the grid lists derived from their areas (which never block: they name
// where an area lies, and follow the successors).
var scopeReferences = []scopeReference{
	{kind: "key", table: "api_keys", name: "name", column: "scope", live: "revoked_at IS NULL"},
	{kind: "user", table: "users", name: "name", column: "scope", live: "true"},
	{kind: "project", table: "projects", name: "name", column: "grid_codes", live: "status <> 'done'"},
	{kind: "project", table: "projects", name: "name", column: "grids", live: "false"},
	{kind: "campaign", table: "campaigns", name: "name", column: "grids", live: "ends_at > now()"},
	{kind: "campaign", table: "campaigns", name: "name", column: "grid_subtree", live: "false"},
}

// findReferencesSQL lists a table's rows naming a retired code ($1).
func (r scopeReference) findSQL() string {
	return `SELECT t.id, t.` + r.name + `::text, c, (` + r.live + `) FROM ` + r.table + ` t, unnest(t.` + r.column + `) c
WHERE t.` + r.column + ` && $1::text[] AND c = ANY($1::text[]) ORDER BY t.id, c`
}

// rewriteSQL replaces retired codes ($1) by their successors ($2, aligned;
// "" keeps the code) in one row ($3).
func (r scopeReference) rewriteSQL() string {
	return `UPDATE ` + r.table + ` t SET ` + r.column + ` = (
    SELECT array_agg(DISTINCT COALESCE(NULLIF(m.new, ''), s) ORDER BY COALESCE(NULLIF(m.new, ''), s))
    FROM unnest(t.` + r.column + `) s LEFT JOIN unnest($1::text[], $2::text[]) m (old, new) ON m.old = s)
WHERE t.id = $3`
}

// references lists the stored references to the codes successors maps
// (retired code → successor, "" for none); blocking are those without a
// successor on live rows.
func references(ctx context.Context, db DBTX, successors map[string]string) (refs, blocking []grid.Reference, err error) {
	refs, blocking = []grid.Reference{}, []grid.Reference{}
	retired := make([]string, 0, len(successors))
	for c := range successors {
		retired = append(retired, c)
	}
	if len(retired) == 0 {
		return refs, blocking, nil
	}
	for _, r := range scopeReferences {
		rows, err := db.Query(ctx, r.findSQL(), retired)
		if err != nil {
			return nil, nil, fmt.Errorf("references in %s: %w", r.table, err)
		}
		for rows.Next() {
			ref := grid.Reference{Kind: r.kind}
			var live bool
			if err := rows.Scan(&ref.ID, &ref.Name, &ref.Code, &live); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("references in %s: %w", r.table, err)
			}
			ref.Successor = successors[ref.Code]
			refs = append(refs, ref)
			if ref.Successor == "" && live {
				blocking = append(blocking, ref)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("references in %s: %w", r.table, err)
		}
	}
	return refs, blocking, nil
}

// openCasesSQL reads the cases a version re-attributes: every case not
// closed, rejected or merged.
const openCasesSQL = `
SELECT id, ST_X(geom), ST_Y(geom), category, COALESCE(grid, ''), COALESCE(unit, ''), COALESCE(unit_rule = 'manual', false)
FROM cases WHERE status NOT IN ('closed', 'rejected') AND merged_into IS NULL ORDER BY id`

func openCases(ctx context.Context, db DBTX) ([]grid.OpenCase, error) {
	rows, err := db.Query(ctx, openCasesSQL)
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	defer rows.Close()
	var out []grid.OpenCase
	for rows.Next() {
		var c grid.OpenCase
		if err := rows.Scan(&c.ID, &c.Point[0], &c.Point[1], &c.Category, &c.Grid, &c.Unit, &c.ManualUnit); err != nil {
			return nil, fmt.Errorf("open cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// locators returns the locator in force and version v's.
// Applying builds the one in force from the grids table: a process may
// already have switched its index to the version being applied.
func (s *VersionStore) locators(ctx context.Context, db DBTX, id int64, applying bool) (cur, next *grid.Locator, err error) {
	gs := NewGridStore(db)
	units, err := gs.FindUnits(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.Current != nil && !applying {
		cur = s.Current()
	}
	if cur == nil {
		all, err := gs.FindGrids(ctx, grid.Filter{})
		if err != nil {
			return nil, nil, err
		}
		if cur, err = grid.NewLocator(all, units, s.Locator); err != nil {
			return nil, nil, fmt.Errorf("locator in force: %w", err)
		}
	}
	draft, err := collectGrids(ctx, db, versionGridsSQL, id)
	if err != nil {
		return nil, nil, err
	}
	if next, err = grid.NewLocator(draft, units, s.Locator); err != nil {
		return nil, nil, fmt.Errorf("locator of version %d: %w", id, err)
	}
	return cur, next, nil
}

// preview computes what activating v would do, reading in db.
func (s *VersionStore) preview(ctx context.Context, db DBTX, v *grid.Version, now time.Time, applying bool) (*grid.Preview, *grid.Diff, error) {
	if v.Kind != "draft" {
		return nil, nil, citygrid.Errorf(citygrid.CodeConflict, "grid version %d is an %s, not a draft: there is nothing to preview", v.ID, v.Kind)
	}
	d, err := versionDiff(ctx, db, v)
	if err != nil {
		return nil, nil, err
	}
	cur, next, err := s.locators(ctx, db, v.ID, applying)
	if err != nil {
		return nil, nil, err
	}
	cs, err := openCases(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	moves, err := grid.Reattribute(cs, cur, next)
	if err != nil {
		return nil, nil, fmt.Errorf("re-attribute: %w", err)
	}
	p := grid.NewPreview(cs, moves, cur, next)
	p.Version, p.Against, p.At = v.ID, d.Against, now
	if p.References, p.Blocking, err = references(ctx, db, d.Successors); err != nil {
		return nil, nil, err
	}
	return p, d, nil
}

// Preview reports what activating draft id now would do: the open cases
// that change grid or unit (the list, old → new matrices by unit and
// street, workloads before and after) and the references to the codes it
// retires. It changes nothing.
func (s *VersionStore) Preview(ctx context.Context, id int64, now time.Time) (*grid.Preview, error) {
	v, err := s.FindVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	p, _, err := s.preview(ctx, s.db, v, now, false)
	return p, err
}

// ActivateLeeway is how far in the past an effective_at may lie and still
// mean "now": the client's clock and the request's travel.
const ActivateLeeway = time.Minute

const scheduleVersionSQL = `UPDATE grid_versions SET status = 'scheduled', effective_at = $2, activated_by = $3 WHERE id = $1`

// Activate puts draft id in force at effective (now when zero or within
// ActivateLeeway before now; later: scheduled, applied by ApplyDue at that
// time). An earlier time, a draft with rejected features, a version not a
// draft, or references to retired codes without a successor are refused,
// and nothing changes.
func (s *VersionStore) Activate(ctx context.Context, id int64, effective, now time.Time) (*grid.Activation, error) {
	if effective.IsZero() {
		effective = now
	}
	if effective.Before(now.Add(-ActivateLeeway)) {
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "effective_at %s is in the past: a version takes effect now or later", effective.UTC().Format(time.RFC3339))
		e.Details = map[string]any{"field": "effective_at"}
		return nil, e
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("activate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	v, err := findVersion(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	switch {
	case v.Status != grid.VersionDraft:
		return nil, citygrid.Errorf(citygrid.CodeConflict, "grid version %d is %s, not a draft: only a draft can be activated", id, v.Status)
	case len(v.Rejected) > 0:
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "grid version %d has %d rejected features: fix them in a new draft", id, len(v.Rejected))
		e.Details = map[string]any{"rejected": v.Rejected}
		return nil, e
	}
	var act *grid.Activation
	if effective.After(now) {
		act, err = s.schedule(ctx, tx, v, effective, now)
	} else {
		act, err = s.apply(ctx, tx, v, nil, now) // the database's now: history rows begin then
	}
	if err != nil {
		return nil, err
	}
	pos, err := written(ctx, tx) // the re-attributions' position in the change feed
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("activate: commit: %w", err)
	}
	record(ctx, pos)
	return act, nil
}

func (s *VersionStore) schedule(ctx context.Context, tx pgx.Tx, v *grid.Version, at, now time.Time) (*grid.Activation, error) {
	if _, d, err := s.preview(ctx, tx, v, now, false); err != nil {
		return nil, err
	} else if _, blocking, err := references(ctx, tx, d.Successors); err != nil {
		return nil, err
	} else if len(blocking) > 0 {
		return nil, blocked(v.ID, blocking)
	}
	if _, err := tx.Exec(ctx, scheduleVersionSQL, v.ID, at, actorOf(ctx)); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.ConstraintName == "grid_versions_one_scheduled" {
			return nil, citygrid.Errorf(citygrid.CodeConflict, "another grid version is already scheduled: activate this one after it takes effect")
		}
		return nil, fmt.Errorf("schedule version %d: %w", v.ID, err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "grids.schedule", ObjectType: "grid_version", ObjectID: fmt.Sprint(v.ID),
		Detail: "effective at " + at.UTC().Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, notifyGridsSQL, GridsChannel, s.Instance+" scheduled"); err != nil {
		return nil, fmt.Errorf("schedule: notify: %w", err)
	}
	v, err := findVersion(ctx, tx, v.ID, false)
	if err != nil {
		return nil, err
	}
	return &grid.Activation{Version: v, Scheduled: true, Rewritten: []grid.Reference{}}, nil
}

func blocked(id int64, blocking []grid.Reference) error {
	e := citygrid.Errorf(citygrid.CodeConflict, "grid version %d retires %s, still referenced by %s %q, with no successor: name one in a new draft's successors, or change the reference first",
		id, blocking[0].Code, blocking[0].Kind, blocking[0].Name)
	e.Details = map[string]any{"blocking": blocking}
	return e
}

// Statements of apply.
const (
	setVersionSettingsSQL = `SELECT set_config('citygrid.grid_effective_at', COALESCE($1::timestamptz, now())::text, true), set_config('citygrid.grid_version', $2::bigint::text, true)`
	upsertVersionGridsSQL = `
INSERT INTO grids AS g (code, name, level, parent, unit, units_by_category, geom, area_m2)
SELECT code, name, level, parent, unit, units_by_category, geom, area_m2
FROM grid_version_grids WHERE version_id = $1
ORDER BY level, code
ON CONFLICT (code) DO UPDATE SET
    name = excluded.name, level = excluded.level, parent = excluded.parent, unit = excluded.unit,
    units_by_category = excluded.units_by_category, geom = excluded.geom, area_m2 = excluded.area_m2, updated_at = now()
WHERE g.name <> excluded.name OR g.level <> excluded.level OR g.parent IS DISTINCT FROM excluded.parent
   OR g.unit IS DISTINCT FROM excluded.unit OR g.units_by_category <> excluded.units_by_category
   OR ST_AsEWKB(g.geom) <> ST_AsEWKB(excluded.geom)`
	deleteRetiredGridsSQL = `DELETE FROM grids WHERE NOT EXISTS (SELECT 1 FROM grid_version_grids v WHERE v.version_id = $1 AND v.code = grids.code)`
	// moveCasesSQL re-attributes the open cases ($1 ids, $2/$3 the grid
	// and unit they had when read, $4/$5 new, $6 the rule) unless they
	// changed since; each gets one event naming the version ($7), at the
	// effective time ($8) or its report if later.
	moveCasesSQL = `
WITH m AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS m (id, fg, fu, tg, tu, rule)
), moved AS (
    UPDATE cases c SET grid = m.tg, unit = m.tu, unit_rule = COALESCE(NULLIF(m.rule, ''), c.unit_rule),
        version = c.version + 1, updated_at = now()
    FROM m
    WHERE c.id = m.id AND COALESCE(c.grid, '') = m.fg AND COALESCE(c.unit, '') = m.fu
      AND c.status NOT IN ('closed', 'rejected') AND c.merged_into IS NULL
    RETURNING c.id, c.reported_at, m.fg, m.fu, m.tg, m.tu
), events AS (
    INSERT INTO case_events (case_id, at, actor, kind, note, data)
    SELECT id, GREATEST(COALESCE($8::timestamptz, now()), reported_at), $9, 'reattribute', 'grid version ' || $7::bigint,
        jsonb_strip_nulls(jsonb_build_object('version', $7::bigint::text,
            'grid', CASE WHEN fg <> tg THEN jsonb_build_object('from', fg, 'to', tg) END,
            'unit', CASE WHEN fu <> tu THEN jsonb_build_object('from', fu, 'to', tu) END))
    FROM moved
)
SELECT id FROM moved ORDER BY id`
	activateVersionSQL = `
WITH prev AS (UPDATE grid_versions SET status = 'superseded' WHERE status = 'active' AND id <> $1)
UPDATE grid_versions SET status = 'active', effective_at = COALESCE($2::timestamptz, now()), activated_at = now(),
    activated_by = CASE WHEN activated_by = '' THEN $3 ELSE activated_by END
WHERE id = $1`
)

// apply puts v in force at `at` (nil: the transaction's start) inside tx: the grids table becomes the
// draft's map (the trigger dates the history rows at `at`), open cases
// are re-attributed, references rewritten, and other processes told.
func (s *VersionStore) apply(ctx context.Context, tx pgx.Tx, v *grid.Version, at *time.Time, now time.Time) (*grid.Activation, error) {
	p, d, err := s.preview(ctx, tx, v, now, true)
	if err != nil {
		return nil, err
	}
	if len(p.Blocking) > 0 {
		return nil, blocked(v.ID, p.Blocking)
	}
	if _, err := tx.Exec(ctx, setVersionSettingsSQL, at, v.ID); err != nil {
		return nil, fmt.Errorf("activate %d: %w", v.ID, err)
	}
	if _, err := tx.Exec(ctx, upsertVersionGridsSQL, v.ID); err != nil {
		return nil, translateActivateError(v.ID, err)
	}
	if _, err := tx.Exec(ctx, deleteRetiredGridsSQL, v.ID); err != nil {
		return nil, translateActivateError(v.ID, err)
	}
	n := len(p.Moves)
	ids, fg, fu, tg, tu, rule := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, m := range p.Moves {
		ids[i], fg[i], fu[i], tg[i], tu[i], rule[i] = m.ID, m.FromGrid, m.FromUnit, m.ToGrid, m.ToUnit, m.ToRule
	}
	act := &grid.Activation{Rewritten: []grid.Reference{}}
	if n > 0 {
		rows, err := tx.Query(ctx, moveCasesSQL, ids, fg, fu, tg, tu, rule, v.ID, at, actorOf(ctx))
		if err != nil {
			return nil, fmt.Errorf("activate %d: re-attribute: %w", v.ID, err)
		}
		if act.Moved, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return nil, fmt.Errorf("activate %d: re-attribute: %w", v.ID, err)
		}
	}
	act.Reattributed = len(act.Moved)
	if err := rewriteReferences(ctx, tx, v.ID, p.References, d.Successors); err != nil {
		return nil, err
	}
	for _, r := range p.References {
		if r.Successor != "" {
			act.Rewritten = append(act.Rewritten, r)
		}
	}
	if _, err := tx.Exec(ctx, activateVersionSQL, v.ID, at, actorOf(ctx)); err != nil {
		return nil, fmt.Errorf("activate %d: %w", v.ID, err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "grids.activate", ObjectType: "grid_version", ObjectID: fmt.Sprint(v.ID),
		Detail: fmt.Sprintf("effective %s; %d open cases re-attributed; %d references rewritten; %d added, %d removed, %d reshaped",
			effectiveText(at), act.Reattributed, len(act.Rewritten), len(d.Added), len(d.Removed), len(d.Reshaped))}); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, notifyGridsSQL, GridsChannel, s.Instance); err != nil {
		return nil, fmt.Errorf("activate: notify: %w", err)
	}
	// The re-attributed cases reach every process through the change feed:
	// their UPDATE is logged by the cases trigger (migration 011).
	if act.Version, err = findVersion(ctx, tx, v.ID, false); err != nil {
		return nil, err
	}
	return act, nil
}

// rewriteReferences rewrites every row naming a retired code with a
// successor, and audits each.
func rewriteReferences(ctx context.Context, tx pgx.Tx, version int64, refs []grid.Reference, successors map[string]string) error {
	old, new := make([]string, 0, len(successors)), make([]string, 0, len(successors))
	for o, n := range successors {
		old, new = append(old, o), append(new, n)
	}
	type row struct {
		kind string
		id   int64
	}
	done := map[row]bool{}
	for _, ref := range refs {
		if ref.Successor == "" || done[row{ref.Kind, ref.ID}] {
			continue
		}
		done[row{ref.Kind, ref.ID}] = true
		for _, r := range scopeReferences {
			if r.kind != ref.Kind {
				continue
			}
			if _, err := tx.Exec(ctx, r.rewriteSQL(), old, new, ref.ID); err != nil {
				return fmt.Errorf("rewrite %s %d scope: %w", r.kind, ref.ID, err)
			}
			var changes []string
			for _, x := range refs {
				if x.Kind == ref.Kind && x.ID == ref.ID && x.Successor != "" {
					changes = append(changes, x.Code+" → "+x.Successor)
				}
			}
			detail, _ := json.Marshal(changes)
			if err := audit(ctx, tx, access.Entry{Action: r.kind + ".scope_rewrite", ObjectType: r.kind, ObjectID: fmt.Sprint(ref.ID),
				Detail: fmt.Sprintf("grid version %d retired codes: %s", version, detail)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// translateActivateError turns the history's constraints into a conflict:
// a period overlapping another of the same code.
func translateActivateError(id int64, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "grid_history_no_overlap", "grid_history_valid_period":
			return citygrid.Errorf(citygrid.CodeConflict, "grid version %d would give a grid two overlapping periods of validity (%s)", id, pe.ConstraintName)
		}
		if pe.Code == "22000" || pe.Code == "22023" { // a range whose end precedes its start
			return citygrid.Errorf(citygrid.CodeConflict, "grid version %d would end a grid before it began", id)
		}
	}
	return fmt.Errorf("activate %d: %w", id, err)
}

// applyLockKey is the advisory lock the process applying due versions
// holds: with several processes, one applies, once.
const applyLockKey = 0x636974796772 // "citygr"

const dueVersionsSQL = `SELECT id FROM grid_versions WHERE status = 'scheduled' AND effective_at <= $1 ORDER BY effective_at, id FOR UPDATE`

// ApplyDue puts in force the scheduled versions whose time has come, at
// their effective time, if this process wins the advisory lock (others
// return nothing: the winner applies them once). now is the clock.
func (s *VersionStore) ApplyDue(ctx context.Context, now time.Time) ([]*grid.Activation, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply due versions: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(applyLockKey)).Scan(&got); err != nil {
		return nil, fmt.Errorf("apply due versions: lock: %w", err)
	}
	if !got {
		return nil, nil
	}
	rows, err := tx.Query(ctx, dueVersionsSQL, now)
	if err != nil {
		return nil, fmt.Errorf("apply due versions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("apply due versions: %w", err)
	}
	var out []*grid.Activation
	for _, id := range ids {
		v, err := findVersion(ctx, tx, id, false)
		if err != nil {
			return nil, err
		}
		act, err := s.apply(ctx, tx, v, v.EffectiveAt, now)
		if err != nil {
			return nil, fmt.Errorf("apply grid version %d: %w", id, err)
		}
		out = append(out, act)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("apply due versions: commit: %w", err)
	}
	return out, nil
}

// Scheduled returns the version waiting for its time with its grids'
// locator, so that a process can switch to it at that moment; nil when
// none waits.
func (s *VersionStore) Scheduled(ctx context.Context) (*grid.Version, *grid.Locator, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM grid_versions WHERE status = 'scheduled'`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("scheduled version: %w", err)
	}
	v, err := s.FindVersion(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	units, err := NewGridStore(s.db).FindUnits(ctx)
	if err != nil {
		return nil, nil, err
	}
	grids, err := collectGrids(ctx, s.db, versionGridsSQL, id)
	if err != nil {
		return nil, nil, err
	}
	l, err := grid.NewLocator(grids, units, s.Locator)
	if err != nil {
		return nil, nil, fmt.Errorf("scheduled version %d: %w", id, err)
	}
	return v, l, nil
}

func effectiveText(at *time.Time) string {
	if at == nil {
		return "now"
	}
	return at.UTC().Format(time.RFC3339)
}
