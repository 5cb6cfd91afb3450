package sim

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve runs the simulator on addr until ctx is done, then shuts down
// gracefully (in-flight requests get 10 seconds). A nil log uses
// slog.Default().
func Serve(ctx context.Context, addr string, opts Options, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Handler(opts), ReadHeaderTimeout: 10 * time.Second}
	log.Warn("easel sim-webui: AUTOMATIC1111 API SIMULATOR, not Stable Diffusion; images are synthetic test patterns",
		"addr", ln.Addr().String(), "delay", opts.Delay, "fail_rate", opts.FailRate)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
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
