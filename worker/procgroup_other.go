//go:build !unix

package worker

import "os/exec"

func ownGroup(*exec.Cmd) {}

// stopGroup kills cmd (without process groups, only cmd itself).
func stopGroup(cmd *exec.Cmd, _ bool) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
