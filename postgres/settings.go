package postgres

import (
	"citygrid/cases"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const findCategoriesSQL = `SELECT code, name_zh, name_en, limit_value, limit_unit FROM categories ORDER BY code`

// Categories returns the stored category table, or the default table while
// none has been stored.
func (s *CaseStore) Categories(ctx context.Context) (*cases.Categories, error) {
	rows, err := s.db.Query(ctx, findCategoriesSQL)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cases.Category, error) {
		var c cases.Category
		err := r.Scan(&c.Code, &c.NameZH, &c.NameEN, &c.TimeLimit.Value, &c.TimeLimit.Unit)
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

// lockCategoriesSQL lets one replacement at a time write the table (SHARE
// ROW EXCLUSIVE conflicts with itself and with every row writer) while
// readers go on reading the committed table.
const lockCategoriesSQL = `LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE`

// ReplaceCategories stores cs as the whole category table. Replacements
// take the table in turn (a lock that conflicts with every other writer), so
// two at once never leave the union of both tables: the later one replaces
// the earlier wholly.
func (s *CaseStore) ReplaceCategories(ctx context.Context, cs *cases.Categories) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, lockCategoriesSQL); err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM categories`); err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	rows := make([][]any, 0, len(cs.List()))
	for _, c := range cs.List() {
		rows = append(rows, []any{c.Code, c.NameZH, c.NameEN, int32(c.TimeLimit.Value), c.TimeLimit.Unit})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"categories"}, []string{"code", "name_zh", "name_en", "limit_value", "limit_unit"}, pgx.CopyFromRows(rows)); err != nil {
		return translateWriteError("replace categories", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("replace categories: %w", err)
	}
	return nil
}

const (
	findSettingSQL   = `SELECT value FROM settings WHERE key = $1`
	upsertSettingSQL = `
INSERT INTO settings (key, value) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`
)

// Calendar returns the stored working calendar, or the default one.
func (s *CaseStore) Calendar(ctx context.Context) (*cases.Calendar, error) {
	var raw []byte
	err := s.db.QueryRow(ctx, findSettingSQL, "calendar").Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return cases.DefaultCalendar(), nil
	} else if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	var c cases.Calendar
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	if err := c.Prepare(); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return &c, nil
}

// ReplaceCalendar stores c as the working calendar.
func (s *CaseStore) ReplaceCalendar(ctx context.Context, c *cases.Calendar) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("replace calendar: %w", err)
	}
	if _, err := s.db.Exec(ctx, upsertSettingSQL, "calendar", string(raw)); err != nil {
		return fmt.Errorf("replace calendar: %w", err)
	}
	return nil
}
