package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/grid"
)

const upsertUnitSQL = `
INSERT INTO units AS u (code, name, kind) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, updated_at = now()
RETURNING (xmax = 0) AS inserted`

// UpsertUnits inserts or updates units by code, all or none.
func (s *GridStore) UpsertUnits(ctx context.Context, units []grid.Unit) (inserted, updated int, err error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("upsert units: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	for _, u := range units {
		var ins bool
		if err := tx.QueryRow(ctx, upsertUnitSQL, u.Code, u.Name, u.Kind).Scan(&ins); err != nil {
			return 0, 0, fmt.Errorf("upsert unit %q: %w", u.Code, err)
		}
		if ins {
			inserted++
		} else {
			updated++
		}
	}
	if err := audit(ctx, tx, access.Entry{Action: "units.upsert", ObjectType: "units", Detail: fmt.Sprintf("%d inserted, %d updated", inserted, updated)}); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("upsert units: %w", err)
	}
	return inserted, updated, nil
}

const findUnitsSQL = `SELECT code, name, kind FROM units ORDER BY code`

// FindUnits lists every unit, ordered by code.
func (s *GridStore) FindUnits(ctx context.Context) ([]grid.Unit, error) {
	rows, err := s.db.Query(ctx, findUnitsSQL)
	if err != nil {
		return nil, fmt.Errorf("find units: %w", err)
	}
	units, err := pgx.CollectRows(rows, pgx.RowToStructByPos[grid.Unit])
	if err != nil {
		return nil, fmt.Errorf("find units: %w", err)
	}
	if units == nil {
		units = []grid.Unit{}
	}
	return units, nil
}
