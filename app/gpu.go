package app

import (
	"context"
	"fmt"
	"net/http"

	"easel/gpu"
	"easel/gpu/webui"
	"easel/store"
)

// openGPU builds the registry of the GPU backends the configuration names
// and re-attaches the endpoints the database already has.
func (a *App) openGPU(ctx context.Context) (*gpu.Registry, error) {
	reg := gpu.NewRegistry()
	if err := a.addSageMaker(ctx, reg); err != nil {
		return nil, err
	}
	if a.Config.WebUIPools == "" {
		return reg, nil
	}
	pools, err := webui.ParsePools(a.Config.WebUIPools)
	if err != nil {
		return nil, fmt.Errorf("EASEL_WEBUI_POOLS: %w", err)
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
