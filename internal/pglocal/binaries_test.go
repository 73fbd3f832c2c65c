package pglocal_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"citygrid/internal/pglocal"
)

func TestStartBogusBinDir(t *testing.T) {
	_, err := pglocal.Start(context.Background(), pglocal.Config{
		DataDir: filepath.Join(t.TempDir(), "pgdata"),
		BinDir:  filepath.Join(t.TempDir(), "no-such-bin"),
	})
	if !errors.Is(err, pglocal.ErrNoPostgres) || !strings.Contains(err.Error(), "PostgreSQL server binaries not found (install postgresql-15") {
		t.Fatalf("err = %v, want the binaries-not-found error", err)
	}
}
