package app

import (
	"context"

	"easel/gpu"
)

// addSageMaker serves ml.* instance types when SageMaker is configured.
func (a *App) addSageMaker(_ context.Context, _ *gpu.Registry) error {
	return nil
}
