package app

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"easel/metrics"
	"easel/migrations"
	"easel/store"
	"easel/web"
)

// readiness is what GET /readyz checks: the database answers, the bucket
// is reachable (HeadBucket), the schema is the one this binary embeds, and
// the job queue runs and can be queried.
func (a *App) readiness() []web.ReadyCheck {
	return []web.ReadyCheck{
		{Name: "database", Check: a.Store.Ping},
		{Name: "object_store", Check: a.Blob.Ping},
		{Name: "migrations", Check: func(ctx context.Context) error { return migrations.Check(ctx, a.pool) }},
		{Name: "job_queue", Check: a.checkJobQueue},
	}
}

var errJobsStopped = errors.New("the job queue is stopped")

func (a *App) checkJobQueue(ctx context.Context) error {
	select {
	case <-a.River.Stopped():
		return errJobsStopped
	default:
	}
	_, err := a.River.QueueGet(ctx, river.QueueDefault)
	return err
}

// countState counts what the metrics' gauges show on each scrape.
func (a *App) countState(ctx context.Context) (metrics.State, error) {
	db := a.Store.DB()
	var st metrics.State
	inferences, err := store.CountInferences(ctx, db)
	if err != nil {
		return st, err
	}
	endpoints, err := store.CountEndpoints(ctx, db)
	if err != nil {
		return st, err
	}
	online, err := store.CountOnlineWorkersByPool(ctx, db, a.workerTimings().OnlineSince(a.Store.Now()))
	if err != nil {
		return st, err
	}
	st.Inferences, st.Endpoints = counts(inferences), counts(endpoints)
	st.WorkersOnline = map[string]int{}
	for _, pool := range a.Config.WorkerPools {
		st.WorkersOnline[pool] = online[pool]
	}
	return st, nil
}

func counts(in []store.StatusCount) []metrics.Count {
	out := make([]metrics.Count, len(in))
	for i, c := range in {
		out[i] = metrics.Count{Status: c.Status, Backend: c.Backend, N: c.N}
	}
	return out
}
