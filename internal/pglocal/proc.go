package pglocal

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// processStart is the start time of process pid (field 22 of
// /proc/PID/stat), or "" when there is no such process.
func processStart(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, starttime field 22.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// processCwd is the working directory of process pid, or "" when there is
// no such process or it is not ours to see.
func processCwd(pid int) string {
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return ""
	}
	return cwd
}

// processesIn lists the processes whose working directory is dir (a
// postmaster and its backends run in their data dir).
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && processCwd(pid) == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}
