//go:build unix

package worker

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, so stopGroup reaches
// the programs it starts (accelerate starts Python, which starts workers).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stopGroup sends SIGTERM (SIGKILL when kill) to cmd's process group.
func stopGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}
