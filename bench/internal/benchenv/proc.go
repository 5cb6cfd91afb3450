package benchenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Loadavg returns /proc/loadavg, "unknown" when unreadable.
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// GatewayPID finds the process running bin over dataDir ("" when none).
func GatewayPID(bin, dataDir string) string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err == nil && strings.HasPrefix(string(b), bin+"\x00") && strings.Contains(string(b), dataDir) {
			return filepath.Base(dir)
		}
	}
	return ""
}

// CPUTime reads utime+stime of a process ("self", or a pid) from /proc
// (USER_HZ = 100); 0 when pid is "" or unreadable.
func CPUTime(pid string) time.Duration {
	if pid == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: utime and stime are fields 14 and 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
