package embedded

import (
	"os"
	"strings"
)

// childEnv returns the environment of a child process: the few variables of
// ours that programs need to run (keepEnv), then extra. Never the whole
// environment: it holds Easel's secrets (EASEL_SECRET, EASEL_ADMIN_PASSWORD,
// EASEL_API_KEY, DATABASE_URL, AWS credentials), which a child neither needs
// nor should be able to leak, e.g. to anyone who can read its
// /proc/<pid>/environ or the crash reports it writes.
func childEnv(extra ...string) []string {
	env := []string{} // not nil: a nil Cmd.Env means the parent's environment
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); keepEnv(name) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// keepEnv reports whether a child may inherit the variable name: the search
// path, home and temporary directories, time zone and locale.
func keepEnv(name string) bool {
	switch name {
	case "PATH", "HOME", "TMPDIR", "TZ", "LANG", "LANGUAGE":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}
