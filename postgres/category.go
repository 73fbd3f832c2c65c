package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
)

const findCategoriesSQL = `SELECT code, name_zh, name_en, limit_value, limit_unit, open311, public, attributes FROM categories ORDER BY code`

// Categories returns the stored category table, or the default table while
// none has been stored.
func (s *CaseStore) Categories(ctx context.Context) (*cases.Categories, error) {
	return findCategories(ctx, s.db)
}

func findCategories(ctx context.Context, db DBTX) (*cases.Categories, error) {
	rows, err := db.Query(ctx, findCategoriesSQL)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cases.Category, error) {
		var c cases.Category
		var open311 bool
		var attrs []byte
		err := r.Scan(&c.Code, &c.NameZH, &c.NameEN, &c.TimeLimit.Value, &c.TimeLimit.Unit, &open311, &c.Public, &attrs)
		if err != nil {
			return c, err
		}
		if !open311 {
			c.Open311 = &open311 // nil stands for the default, true
		}
		if len(attrs) > 0 && string(attrs) != "[]" {
			err = json.Unmarshal(attrs, &c.Attributes)
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	if len(list) == 0 {
		list = cases.DefaultCategories()
	}
	return cases.NewCategories(list)
}

// lockCategoriesSQL lets one writer at a time change the table (SHARE ROW
// EXCLUSIVE conflicts with itself and with every row writer) and makes it
// wait for the cases being stored (which hold SHARE, see
// lockCategoriesForCasesSQL) while readers go on reading the committed
// table.
const lockCategoriesSQL = `LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE`

// categoriesInUseSQL counts the stored cases of every code missing from a
// table ($1). Run under lockCategoriesSQL, it sees every case whose
// category was checked against the old table.
const categoriesInUseSQL = `
SELECT category, count(*) FROM cases WHERE category <> ALL ($1::text[]) GROUP BY category ORDER BY category`

// ReplaceCategories stores cs as the whole category table, unless cases
// use codes it lacks: then nothing changes and the CodeConflict error lists
// those codes with their counts (details "in_use"). Replacements take the
// table in turn, and after the cases being stored, so two at once never
// leave the union of both tables and no case slips in under a code being
// dropped.
func (s *CaseStore) ReplaceCategories(ctx context.Context, cs *cases.Categories) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, lockCategoriesSQL); err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	rows, err := tx.Query(ctx, categoriesInUseSQL, cs.Codes())
	if err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	inUse, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CategoryUse, error) {
		var u CategoryUse
		err := r.Scan(&u.Code, &u.Cases)
		return u, err
	})
	if err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	if len(inUse) > 0 {
		return dropsCodesInUse(inUse)
	}
	if err := writeCategories(ctx, tx, cs); err != nil {
		return err
	}
	if err := audit(ctx, tx, access.Entry{Action: "categories.replace", ObjectType: "categories", Detail: fmt.Sprintf("%d categories", len(cs.List()))}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	return nil
}

// CategoryUse is a category code and how many cases use it.
type CategoryUse struct {
	Code  string `json:"code"`
	Cases int64  `json:"cases"`
}

// dropsCodesInUse is the refusal of a table that drops codes cases use.
func dropsCodesInUse(inUse []CategoryUse) error {
	const listed = 20
	var b strings.Builder
	for i, u := range inUse {
		if i == listed {
			fmt.Fprintf(&b, " and %d more", len(inUse)-listed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		noun := "cases"
		if u.Cases == 1 {
			noun = "case"
		}
		fmt.Fprintf(&b, "%s (%d %s)", u.Code, u.Cases, noun)
	}
	e := citygrid.Errorf(citygrid.CodeConflict, "stored cases use codes the new table drops: %s; keep them in the table", b.String())
	e.Details = map[string]any{"in_use": inUse}
	return e
}

// PutCategory adds c to the stored table or replaces the entry of its code
// (the default table is stored first when none is). Writers take the table
// in turn, so two at once never lose one another's change.
func (s *CaseStore) PutCategory(ctx context.Context, c cases.Category) (bool, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("put category: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, lockCategoriesSQL); err != nil {
		return false, fmt.Errorf("put category: %w", err)
	}
	current, err := findCategories(ctx, tx)
	if err != nil {
		return false, err
	}
	next, added, err := current.With(c)
	if err != nil {
		return false, err
	}
	if err := writeCategories(ctx, tx, next); err != nil {
		return false, err
	}
	if err := audit(ctx, tx, access.Entry{Action: "category.put", ObjectType: "category", ObjectID: c.Code}); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("put category: %w", err)
	}
	return added, nil
}

// writeCategories replaces the rows of the table with cs, under
// lockCategoriesSQL.
func writeCategories(ctx context.Context, tx pgx.Tx, cs *cases.Categories) error {
	if _, err := tx.Exec(ctx, `DELETE FROM categories`); err != nil {
		return fmt.Errorf("write categories: %w", err)
	}
	rows := make([][]any, 0, len(cs.List()))
	for _, c := range cs.List() {
		attrs := []byte("[]")
		if len(c.Attributes) > 0 {
			attrs, _ = json.Marshal(c.Attributes)
		}
		rows = append(rows, []any{c.Code, c.NameZH, c.NameEN, int32(c.TimeLimit.Value), c.TimeLimit.Unit, c.InOpen311(), c.Public, string(attrs)})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"categories"}, []string{"code", "name_zh", "name_en", "limit_value", "limit_unit", "open311", "public", "attributes"}, pgx.CopyFromRows(rows)); err != nil {
		return translateWriteError("write categories", err)
	}
	return nil
}

// lockCategoriesForCasesSQL is taken by every transaction that stores
// cases: SHARE lets them run side by side but not beside a category writer,
// which waits for them (and they for it).
const lockCategoriesForCasesSQL = `LOCK TABLE categories IN SHARE MODE`

// missingCategoriesSQL returns the codes of $1 that the stored table lacks;
// none while no table is stored (the default one applies, and a stored
// table is never emptied).
const missingCategoriesSQL = `
SELECT COALESCE(array_agg(u.code ORDER BY u.code), '{}') FROM unnest($1::text[]) AS u (code)
WHERE EXISTS (SELECT 1 FROM categories) AND NOT EXISTS (SELECT 1 FROM categories c WHERE c.code = u.code)`

// checkCategoriesKept makes sure, under lockCategoriesForCasesSQL, that the
// codes cases were validated against are still in the table: a replacement
// that dropped one may have committed since. Until tx ends, no replacement
// can drop them.
func checkCategoriesKept(ctx context.Context, tx pgx.Tx, codes []string) error {
	b := &pgx.Batch{}
	b.Queue(lockCategoriesForCasesSQL)
	var missing []string
	b.Queue(missingCategoriesSQL, codes).QueryRow(func(r pgx.Row) error { return r.Scan(&missing) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("check categories: %w", err)
	}
	if len(missing) > 0 {
		return citygrid.Errorf(citygrid.CodeConflict, "the category table was changed meanwhile and no longer has %s: read it again (GET /v1/categories) and resend", strings.Join(missing, ", "))
	}
	return nil
}
