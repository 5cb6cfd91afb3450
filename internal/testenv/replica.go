package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaEnv marks a re-executed test binary that must run `easel serve`
// (ReplicaChild) instead of the tests.
const replicaEnv = "EASEL_TEST_REPLICA"

// ReplicaChild reports whether this test binary was started by
// StartReplica: its TestMain must then run `easel serve` and exit.
func ReplicaChild() bool { return os.Getenv(replicaEnv) == "1" }

// Replica is `easel serve` running as a process of its own (the test
// binary re-executed), as one of several replicas on one database and
// bucket: Server's Call and MustCall reach it (Server.App is nil).
type Replica struct {
	*Server
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

var readyLine = regexp.MustCompile(`Easel is ready: console http://(\S+?)/ `)

// StartReplica runs `easel serve` with env (Env's map; EASEL_ADDR is a free
// loopback port) in a new process, waits until it serves, and kills it when
// the test ends. The test binary's TestMain must hand over to serve when
// ReplicaChild is true.
func StartReplica(t testing.TB, env map[string]string) *Replica {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{replicaEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"EASEL_ADDR=127.0.0.1:0", "EASEL_LOG_FORMAT=json"}
	for k, v := range env {
		if k != "EASEL_ADDR" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	r := &Replica{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a replica: %v", err)
	}
	t.Cleanup(func() {
		r.Kill()
		if t.Failed() {
			t.Logf("replica output:\n%s", r.Output())
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	select {
	case a := <-addr:
		r.Server = &Server{URL: "http://" + a}
	case <-r.done:
		t.Fatalf("the replica exited before serving:\n%s", r.Output())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the replica did not serve within 2 minutes:\n%s", r.Output())
	}
	return r
}

// Kill ends the replica with SIGKILL (kill -9): nothing it runs gets to
// finish or clean up. It waits until the process is gone.
func (r *Replica) Kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// Output returns what the replica printed (its JSON log) so far.
func (r *Replica) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}
