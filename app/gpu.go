package app

import (
	"context"

	"easel/gpu"
)

// openGPU builds the registry of GPU backends the configuration names.
func (a *App) openGPU(_ context.Context) (*gpu.Registry, error) {
	return gpu.NewRegistry(), nil
}
