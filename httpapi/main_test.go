package httpapi_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

func TestMain(m *testing.M) {
	dbtest.Main(m, func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := postgres.Migrate(ctx, pool)
		return err
	})
}
