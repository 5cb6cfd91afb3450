package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"easel/bench/internal/benchenv"
	"easel/gpu/sim"
)

// simsConfig is the sims child's configuration: one simulator over each
// models folder.
type simsConfig struct {
	Dirs        []string      `json:"dirs"`
	Delay       time.Duration `json:"delay"`
	SwitchDelay time.Duration `json:"switch_delay"`
}

// startSim serves an A1111 simulator over the models folder dir (created
// with its checkpoint folder) on a loopback port; it returns its URL and
// the function that stops it.
func startSim(dir string, delay, switchDelay time.Duration) (string, func() error, error) {
	if err := os.MkdirAll(filepath.Join(dir, sim.CheckpointDir), 0o755); err != nil {
		return "", nil, err
	}
	h := sim.Handler(sim.Options{ModelsDir: dir, Delay: delay, SwitchDelay: switchDelay})
	return benchenv.Serve(&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
}

// simsChild serves the simulators of the throughput phase: its ready
// reply is their URLs, in the order of the folders.
func simsChild(_ context.Context, raw json.RawMessage) (any, handler, func() error, error) {
	var cfg simsConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, nil, err
	}
	var urls []string
	var stops []func() error
	stop := func() error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}
	for _, dir := range cfg.Dirs {
		u, s, err := startSim(dir, cfg.Delay, cfg.SwitchDelay)
		if err != nil {
			return nil, nil, nil, errors.Join(err, stop())
		}
		urls, stops = append(urls, u), append(stops, s)
	}
	handle := func(context.Context, string, json.RawMessage) (any, error) {
		return nil, errors.New("the sims child takes no commands")
	}
	return urls, handle, stop, nil
}

// simStats reads a simulator's counters.
func simStats(ctx context.Context, client *http.Client, url string) (sim.Stats, error) {
	var st sim.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+sim.StatsPath, nil)
	if err != nil {
		return st, err
	}
	res, err := client.Do(req)
	if err != nil {
		return st, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s: %d", sim.StatsPath, res.StatusCode)
	}
	return st, json.NewDecoder(res.Body).Decode(&st)
}

// sumStats adds the counters of the simulators at urls.
func sumStats(ctx context.Context, client *http.Client, urls []string) (sim.Stats, error) {
	var total sim.Stats
	for _, u := range urls {
		st, err := simStats(ctx, client, u)
		if err != nil {
			return total, err
		}
		total.Generations += st.Generations
		total.Switches += st.Switches
		total.Interrupts += st.Interrupts
	}
	return total, nil
}
