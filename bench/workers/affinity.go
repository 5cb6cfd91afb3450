package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
	"easel/gpu/sim"
)

// affinityRun is one run of the affinity phase.
type affinityRun struct {
	pool                 string
	strip                bool
	res                  result
	switched, downloaded int       // jobs, as Easel recorded them (Inference.Switched, Downloaded)
	sims                 sim.Stats // summed over the run's simulators
}

// affinity runs the affinity phase twice, each on its own pool and fresh
// workers (-affinity-workers, simulators with -switch-delay and empty
// models folders): first with affinity off, then on. Off is the same
// Easel: the workers' transport strips cached and loaded from their
// Lease bodies (tap.strip), so Easel has nothing to prefer by.
func affinity(ctx context.Context, e *benchenv.Easel, db *pgx.Conn, cfg config, keys map[string]string, models []checkpoint, dir string) ([]affinityRun, error) {
	var names []string
	for _, m := range models {
		names = append(names, m.name)
	}
	var runs []affinityRun
	for _, r := range []affinityRun{{pool: "affoff", strip: true}, {pool: "affon"}} {
		if err := r.run(ctx, e, db, cfg, keys[r.pool], names, dir); err != nil {
			return runs, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func (r *affinityRun) run(ctx context.Context, e *benchenv.Easel, db *pgx.Conn, cfg config, key string, models []string, dir string) (err error) {
	counts := &calls{}
	var boxes []*box
	defer func() { err = errors.Join(err, stopBoxes(boxes)) }()
	for i := range cfg.affinityWorkers {
		name := fmt.Sprintf("%s-%d", r.pool, i)
		b, err := startSimBox(boxConfig{Server: e.URL, Key: key, Name: name, Dir: filepath.Join(dir, name),
			Strip: r.strip, Verbose: cfg.verbose}, 0, cfg.switchDelay, counts)
		if err != nil {
			return err
		}
		boxes = append(boxes, b)
	}
	if err := waitPolling(ctx, boxes, time.Minute); err != nil {
		return err
	}
	c := newClient(e.URL, cfg.poll, cfg.affinityC)
	defer c.http.CloseIdleConnections()
	endpoint, err := c.createEndpoint(ctx, r.pool, "byoc")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.deleteEndpoint(ctx, endpoint)) }()
	r.res = c.jobs(ctx, jobsCmd{N: cfg.affinityN, C: cfg.affinityC, Endpoint: endpoint, Models: models, Timeout: 5 * time.Minute})
	if r.res.Errors > 0 {
		return fmt.Errorf("affinity %s: %d of %d jobs failed: %s", r.pool, r.res.Errors, cfg.affinityN, strings.Join(r.res.Samples, "; "))
	}
	err = db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE switched), count(*) FILTER (WHERE downloaded)
		FROM inferences WHERE id = ANY ($1::uuid[])`, r.res.IDs).Scan(&r.switched, &r.downloaded)
	if err != nil {
		return err
	}
	var urls []string
	for _, b := range boxes {
		urls = append(urls, b.sim)
	}
	r.sims, err = sumStats(ctx, c.http, urls)
	return err
}
