package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"easel/actions"
	"easel/gpu"
	"easel/gpu/webui"
	"easel/gpu/workers"
	"easel/store"
)

// openGPU builds the registry of the GPU backends the configuration names
// and re-attaches the endpoints the database already has.
func (a *App) openGPU(ctx context.Context) (*gpu.Registry, error) {
	reg := gpu.NewRegistry()
	if err := a.addSageMaker(ctx, reg); err != nil {
		return nil, err
	}
	if err := a.addWorkerPools(ctx, reg); err != nil {
		return nil, err
	}
	if a.Config.WebUIPools == "" {
		return reg, nil
	}
	pools, err := webui.ParsePools(a.Config.WebUIPools)
	if err != nil {
		return nil, fmt.Errorf("EASEL_WEBUI_POOLS: %w", err)
	}
	for _, p := range pools {
		if slices.Contains(a.Config.WorkerPools, p.Name) {
			return nil, fmt.Errorf("pool %q is both in EASEL_WEBUI_POOLS and EASEL_WORKER_POOLS: give them different names", p.Name)
		}
	}
	b := webui.New(pools, &http.Client{}, a.Log)
	reg.AddPools(b, b.Pools())
	endpoints, err := store.AllEndpoints(ctx, a.Store.DB())
	if err != nil {
		return nil, err
	}
	for _, e := range endpoints {
		if e.Backend != gpu.KindWebUI {
			continue
		}
		if err := b.Attach(e.Name, e.InstanceType); err != nil {
			// The pool left the configuration; the reconciler marks it Failed.
			a.Log.Warn("endpoint's pool is not configured", "endpoint", e.Name, "pool", e.InstanceType, "error", err)
		}
	}
	return reg, nil
}

// addWorkerPools serves the pools of `easel worker`s (EASEL_WORKER_POOLS):
// their endpoints are InService while a worker of the pool is online.
func (a *App) addWorkerPools(ctx context.Context, reg *gpu.Registry) error {
	if len(a.Config.WorkerPools) == 0 {
		return nil
	}
	t := a.workerTimings()
	b := workers.New(func(ctx context.Context, pool string) (int, error) {
		return store.CountOnlineWorkers(ctx, a.Store.DB(), pool, t.OnlineSince(a.Store.Now()))
	})
	reg.AddWorkerPools(b, a.Config.WorkerPools)
	endpoints, err := store.AllEndpoints(ctx, a.Store.DB())
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		if e.Backend == gpu.KindWorkers {
			b.Attach(e.Name, e.InstanceType)
		}
	}
	return nil
}

func (a *App) workerTimings() actions.WorkerTimings {
	return actions.WorkerTimings{Heartbeat: a.Config.WorkerHeartbeat, JobTimeout: a.Config.JobTimeout}
}
