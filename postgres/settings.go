package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/cases"
)

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
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("replace calendar: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, upsertSettingSQL, "calendar", string(raw)); err != nil {
		return fmt.Errorf("replace calendar: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "calendar.replace", ObjectType: "calendar"}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
