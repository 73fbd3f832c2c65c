package pglocal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// command prepares a PostgreSQL binary run as the server's user, with a
// clean environment (no PG* variables, C messages) and cwd "/".
func (c *Cluster) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	cmd.WaitDelay = 10 * time.Second
	env := []string{"LANG=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	if c.runAs != nil {
		env = append(env, "HOME=/")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.runAs.uid, Gid: c.runAs.gid, Groups: c.runAs.groups}}
	} else if h, ok := os.LookupEnv("HOME"); ok {
		env = append(env, "HOME="+h)
	}
	cmd.Env = env
	return cmd
}

// run runs a PostgreSQL binary and returns its combined output; the error
// includes the output.
func (c *Cluster) run(ctx context.Context, path string, args ...string) (string, error) {
	cmd := c.command(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	c.log.Debug("local postgres: ran command", "cmd", filepath.Base(path), "args", args, "took", time.Since(t0).Round(time.Millisecond), "err", err, "output", strings.TrimSpace(out.String()))
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(path), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) (string, error) {
	return c.run(ctx, c.bin.pgctl, args...)
}
