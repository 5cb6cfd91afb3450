package worker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// sdScripts runs kohya sd-scripts from its folder: the WD14 tagger with
// its Python and train_network.py (sdxl_train_network.py for sd_xl)
// through `accelerate launch`, each in its own process group, which is
// stopped (SIGTERM, then SIGKILL after grace) when the job is.
type sdScripts struct {
	dir   string
	grace time.Duration
}

// tool returns the folder's virtual environment's program, if it has
// one, else the program on PATH.
func (s *sdScripts) tool(name string) string {
	for _, venv := range []string{"venv", ".venv"} {
		p := filepath.Join(s.dir, venv, "bin", name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return name
}

func (s *sdScripts) tag(ctx context.Context, spec *trainSpec, out *trainOutput) error {
	args := []string{"finetune/tag_images_by_wd14_tagger.py", "--batch_size", "1",
		"--caption_extension", spec.captionExtension(), "--recursive"}
	for _, th := range []struct{ flag, v string }{
		{"--general_threshold", spec.wd14.GeneralThreshold}, {"--character_threshold", spec.wd14.CharacterThreshold}} {
		if th.v == "" {
			continue
		}
		if f, err := strconv.ParseFloat(th.v, 64); err != nil || f < 0 || f > 1 {
			return fmt.Errorf("WD14 %s %q is not a number from 0 to 1", th.flag[2:], th.v)
		}
		args = append(args, th.flag, th.v)
	}
	args = append(args, spec.trainDir)
	return s.run(ctx, out, s.tool("python"), args...)
}

func (s *sdScripts) train(ctx context.Context, spec *trainSpec, out *trainOutput) error {
	script := "train_network.py"
	if spec.fmType == "sd_xl" {
		script = "sdxl_train_network.py"
	}
	return s.run(ctx, out, s.tool("accelerate"), "launch", "--num_cpu_threads_per_process", "1", script,
		"--config_file", spec.configPath, "--dataset_config", spec.datasetPath)
}

// run runs a program in the sd-scripts folder until it exits or ctx ends.
func (s *sdScripts) run(ctx context.Context, out *trainOutput, name string, args ...string) error {
	fmt.Fprintf(out, "$ %s %v\n", name, args)
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return err
	case <-ctx.Done():
	}
	stopGroup(cmd, false)
	t := time.NewTimer(s.grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		stopGroup(cmd, true)
		<-exited
	}
	return context.Cause(ctx)
}
