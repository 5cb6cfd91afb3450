package worker

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// nvidiaSMI names the first GPU and its memory, or nothing when
// nvidia-smi is missing or fails.
func nvidiaSMI(ctx context.Context) (string, int64) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return "", 0
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--query-gpu=name,memory.total", "--format=csv,noheader").Output()
	if err != nil {
		return "", 0
	}
	return parseNvidiaSMI(string(out))
}

// parseNvidiaSMI reads the first line of "NVIDIA H100 80GB HBM3, 81559 MiB".
func parseNvidiaSMI(out string) (string, int64) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	name, mem, _ := strings.Cut(line, ",")
	mib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(mem), "MiB")), 10, 64)
	return strings.TrimSpace(name), mib
}
