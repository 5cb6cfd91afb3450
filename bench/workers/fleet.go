package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"easel/worker"
	"easel/worker/webui"
)

// boxConfig is one GPU machine of a bench: a worker beside the WebUI at
// Sim, sharing the models folder Dir.
type boxConfig struct {
	Server, Key, Name string
	Sim, Dir          string
	// Strip turns affinity off (tap.strip); Grace is the worker's
	// (0: its default).
	Strip bool
	Grace time.Duration
	// Verbose logs the worker's warnings to stderr.
	Verbose bool
	// hold, when not nil, holds the worker's Lease calls until it is
	// closed (in-process workers only).
	hold chan struct{}
}

// box is a running worker.
type box struct {
	name string
	sim  string
	tap  *tap
	stop func() error
}

// startBox runs a worker (worker.New, w.Run) on its own transport.
func startBox(cfg boxConfig, counts *calls) (*box, error) {
	backend, err := webui.New(cfg.Sim)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t := &tap{base: tr, calls: counts, strip: cfg.Strip, hold: cfg.hold}
	log := slog.New(slog.DiscardHandler)
	if cfg.Verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("worker", cfg.Name)
	}
	w, err := worker.New(worker.Config{Server: cfg.Server, Key: cfg.Key, Name: cfg.Name, ModelsDir: cfg.Dir,
		CacheSize: 1 << 30, Backend: backend, Grace: cfg.Grace, HTTP: &http.Client{Transport: t}, Log: log,
		GPU: func(context.Context) (string, int64) { return "simulated (bench)", 0 }})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return &box{name: cfg.Name, sim: cfg.Sim, tap: t, stop: func() error {
		// The network comes back, so that a worker cut off hears at once
		// that its lease is lost instead of retrying its reports.
		t.cut.Store(false)
		cancel()
		err := <-done
		tr.CloseIdleConnections()
		if err != nil {
			return fmt.Errorf("worker %s: %w", cfg.Name, err)
		}
		return nil
	}}, nil
}

// startSimBox runs a worker beside its own in-process simulator.
func startSimBox(cfg boxConfig, delay, switchDelay time.Duration, counts *calls) (*box, error) {
	url, stopSim, err := startSim(cfg.Dir, delay, switchDelay)
	if err != nil {
		return nil, err
	}
	cfg.Sim = url
	b, err := startBox(cfg, counts)
	if err != nil {
		return nil, errors.Join(err, stopSim())
	}
	stopWorker := b.stop
	b.stop = func() error { return errors.Join(stopWorker(), stopSim()) }
	return b, nil
}

// waitPolling waits until each box has sent a Lease call.
func waitPolling(ctx context.Context, boxes []*box, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, b := range boxes {
		for b.tap.asked.Load() == 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("worker %s has not asked for a job after %s", b.name, timeout)
			}
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

func stopBoxes(boxes []*box) error {
	errs := make([]error, len(boxes))
	done := make(chan struct{})
	for i, b := range boxes {
		go func() { errs[i] = b.stop(); done <- struct{}{} }()
	}
	for range boxes {
		<-done
	}
	return errors.Join(errs...)
}

// workersConfig is the workers child's configuration: one worker beside
// each simulator.
type workersConfig struct {
	Boxes []boxConfig `json:"boxes"`
}

// workersChild runs the workers of the throughput phase; it is ready when
// every one asks for jobs. Its command "calls" answers the calls they
// made so far (callCounts).
func workersChild(ctx context.Context, raw json.RawMessage) (any, handler, func() error, error) {
	var cfg workersConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, nil, err
	}
	counts := &calls{}
	var boxes []*box
	stop := func() error { return stopBoxes(boxes) }
	for _, c := range cfg.Boxes {
		b, err := startBox(c, counts)
		if err != nil {
			return nil, nil, nil, errors.Join(err, stop())
		}
		boxes = append(boxes, b)
	}
	if err := waitPolling(ctx, boxes, time.Minute); err != nil {
		return nil, nil, nil, errors.Join(err, stop())
	}
	handle := func(_ context.Context, op string, _ json.RawMessage) (any, error) {
		if op != "calls" {
			return nil, fmt.Errorf("unknown command %q", op)
		}
		return counts.snapshot(), nil
	}
	return len(boxes), handle, stop, nil
}

// sleep waits d or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
