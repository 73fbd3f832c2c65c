package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name string
		euid int
		wd   string
		want string
	}{
		{"a normal user: in the checkout", 1000, "/home/alice/citygrid", ".citygrid/pgdata"},
		{"root: per checkout under /var/lib/citygrid", 0, "/root/citygrid", "/var/lib/citygrid/citygrid-"},
		{"root, another clone of the same name", 0, "/srv/citygrid", "/var/lib/citygrid/citygrid-"},
		{"root, a name with odd characters", 0, "/root/my city grid", "/var/lib/citygrid/my_city_grid-"},
		{"root, a hidden directory", 0, "/root/.cg", "/var/lib/citygrid/cg-"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaultDataDir(tt.euid, tt.wd)
			if !strings.HasPrefix(got, tt.want) || tt.euid != 0 && got != tt.want {
				t.Errorf("defaultDataDir(%d, %q) = %q, want %q…", tt.euid, tt.wd, got, tt.want)
			}
			if again := defaultDataDir(tt.euid, tt.wd); again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
			if tt.euid == 0 {
				if filepath.Dir(got) != rootDataDirs {
					t.Errorf("%q is not directly under %s, which make clean's directory must be", got, rootDataDirs)
				}
				if other, dup := seen[got]; dup {
					t.Errorf("%q and %q share %s", tt.wd, other, got)
				}
				seen[got] = tt.wd
			}
		})
	}
}

func TestDataDirCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"the default", []string{"data-dir"}, "", mustAbs(t, defaultDataDir(os.Geteuid(), workDir()))},
		{"from the environment", []string{"data-dir"}, "/tmp/elsewhere/pgdata", "/tmp/elsewhere/pgdata"},
		{"from the flag", []string{"data-dir", "-data-dir", "rel/pg"}, "/tmp/elsewhere/pgdata", mustAbs(t, "rel/pg")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CITYGRID_DATA_DIR", tt.env)
			var stdout, stderr bytes.Buffer
			if code := Run(context.Background(), tt.args, &stdout, &stderr); code != 0 {
				t.Fatalf("Run(%q) = %d: %s", tt.args, code, stderr.String())
			}
			if got := strings.TrimSpace(stdout.String()); got != tt.want {
				t.Errorf("data-dir printed %q, want %q", got, tt.want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestMakeCleanRemovesDataDir runs the Makefile's clean target with a
// stand-in for go that answers "run ./cmd/citygrid data-dir" (tested above)
// with a directory of the test's: clean must remove that directory, and
// must ask with CITYGRID_DATA_DIR emptied, so that it removes the default
// one, never a directory configured for other uses.
func TestMakeCleanRemovesDataDir(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed:", err)
	}
	makefile := mustAbs(t, filepath.Join("..", "..", "Makefile"))
	work := t.TempDir()
	data := filepath.Join(t.TempDir(), "checkout-0123456789ab")
	if err := os.MkdirAll(filepath.Join(data, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	fakeGo := filepath.Join(t.TempDir(), "go")
	script := "#!/bin/sh\n" +
		`[ "$*" = "run ./cmd/citygrid data-dir" ] || { echo "unexpected: go $*" >&2; exit 1; }` + "\n" +
		`[ -z "$CITYGRID_DATA_DIR" ] || { echo "CITYGRID_DATA_DIR is set" >&2; exit 1; }` + "\n" +
		"echo " + data + "\n"
	if err := os.WriteFile(fakeGo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "-f", makefile, "clean", "GO="+fakeGo)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CITYGRID_DATA_DIR=/somewhere/precious")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make clean: %v\n%s", err, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("make clean left %s (stat: %v)\n%s", data, err, out)
	}
}
