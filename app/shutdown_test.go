package app

import (
	"testing"

	"easel/handlers"
)

// TestShutdownOutlastsRealTimeWait: a graceful shutdown waits longer than
// a Real-time start may wait for its result.
func TestShutdownOutlastsRealTimeWait(t *testing.T) {
	if ShutdownWait <= handlers.RealtimeWait {
		t.Errorf("shutdown waits %s, a Real-time start up to %s", ShutdownWait, handlers.RealtimeWait)
	}
}
