package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// Serve runs the simulator on addr until ctx is done, then shuts down
// gracefully: running generations end as interrupted and in-flight
// requests get 10 seconds. It fails at once when opts.ModelsDir is given
// but is not a readable folder. A nil log uses slog.Default().
func Serve(ctx context.Context, addr string, opts Options, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if opts.ModelsDir != "" {
		if fi, err := os.Stat(opts.ModelsDir); err != nil {
			return fmt.Errorf("models folder: %w", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("models folder %s is not a folder", opts.ModelsDir)
		}
	}
	h, sim := newServer(opts)
	if err := sim.rescan(); err != nil {
		return fmt.Errorf("models folder: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sim.mu.Lock()
	models := len(sim.models.checkpoints)
	sim.mu.Unlock()
	log.Warn("easel sim-webui: AUTOMATIC1111 API SIMULATOR, not Stable Diffusion; images are synthetic test patterns",
		"addr", ln.Addr().String(), "delay", opts.Delay, "fail_rate", opts.FailRate,
		"models_dir", opts.ModelsDir, "checkpoints", models, "switch_delay", opts.SwitchDelay)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sim.close()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shut)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	log.Info("easel sim-webui stopped")
	return err
}
