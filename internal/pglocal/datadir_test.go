package pglocal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citygrid/internal/pglocal"
)

func TestStartRejectsForeignDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := pglocal.Start(context.Background(), pglocal.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "holds no PostgreSQL cluster") {
		t.Fatalf("err = %v, want a not-a-cluster error", err)
	}
}
