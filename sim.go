package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"easel/gpu/sim"
)

// simWebUI runs the AUTOMATIC1111 API simulator (a test and demo tool; it
// draws test pictures, it is not Stable Diffusion).
func simWebUI(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sim-webui", flag.ContinueOnError)
	addr := fs.String("addr", ":7861", "listen address")
	delay := fs.Duration("delay", 0, "time each generation takes")
	failRate := fs.Float64("fail-rate", 0, "probability (0..1) that a generation fails with 500")
	modelsDir := fs.String("models-dir", "", "folder with Stable-diffusion/, Lora/ and VAE/ model files to serve (default: the built-in model only)")
	switchDelay := fs.Duration("switch-delay", 0, "time loading another checkpoint takes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *failRate < 0 || *failRate > 1 {
		return fmt.Errorf("--fail-rate must be between 0 and 1, not %v", *failRate)
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	fmt.Fprintf(stdout, "easel sim-webui: an AUTOMATIC1111 API SIMULATOR on %s (draws test pictures; not Stable Diffusion)\n", *addr)
	return sim.Serve(ctx, *addr, sim.Options{Delay: *delay, FailRate: *failRate,
		ModelsDir: *modelsDir, SwitchDelay: *switchDelay}, log)
}
