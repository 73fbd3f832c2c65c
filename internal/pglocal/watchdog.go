package pglocal

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// watchdogPipes keeps the write ends of the watchdogs' pipes open (and
// reachable) until Stop: the watchdog acts when it reads EOF, which happens
// when this process is gone, however it died.
var watchdogPipes sync.Map // *Cluster -> *os.File

// startWatchdog starts a detached shell that, should this process die
// without Stop, shuts the ephemeral server down (SIGQUIT: immediate) and
// removes its directories. Stop kills it.
func (c *Cluster) startWatchdog() {
	data, err := os.ReadFile(filepath.Join(c.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		c.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	pmPID := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	r, w, err := os.Pipe()
	if err != nil {
		c.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	defer r.Close()
	const script = `read _
kill -QUIT "$1" 2>/dev/null
i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
rm -rf "$2" "$3"`
	cmd := exec.Command("/bin/sh", "-c", script, "citygrid-pg-watchdog", pmPID, c.cfg.DataDir, c.socketDir)
	cmd.Dir = "/"
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // survive Ctrl-C to our process group
	if err := cmd.Start(); err != nil {
		w.Close()
		c.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	watchdogPipes.Store(c, w)
	c.watchdog = cmd
}

// stopWatchdog ends the watchdog without letting it act.
func (c *Cluster) stopWatchdog() {
	if c.watchdog == nil {
		return
	}
	c.watchdog.Process.Kill()
	c.watchdog.Wait()
	if w, ok := watchdogPipes.LoadAndDelete(c); ok {
		w.(*os.File).Close()
	}
}
