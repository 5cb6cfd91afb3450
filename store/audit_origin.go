package store

import (
	"context"

	"github.com/google/uuid"
)

// Ways a change reaches Easel, as the audit log's via column names them;
// a background job is "job:<River kind>" (ViaJob).
const (
	ViaAPI     = "api"
	ViaConsole = "console"
	ViaWorker  = "worker"
	ViaCLI     = "cli"
	ViaSystem  = "system"
)

// SystemActor is the actor of changes Easel makes by itself (background
// jobs, clean-ups): no user asked for them.
const SystemActor = "easel"

// ViaJob is the via of a change made by a River job of this kind.
func ViaJob(kind string) string { return "job:" + kind }

// Origin is where a change comes from: how it came, and for a request the
// API key, the client address and the request id. The request middleware,
// the command line and the job runner put one on the context; Audit reads
// it from there, so no writer has to pass it along.
type Origin struct {
	Via       string
	KeyID     uuid.UUID // uuid.Nil when no API key was used
	Address   string
	RequestID string
}

type originKey struct{}

// WithOrigin returns ctx carrying o. The request middleware stores a
// pointer and fills the key id once the key is known, so a request costs
// one context value.
func WithOrigin(ctx context.Context, o *Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin on ctx; a context without one is a change
// made by Easel itself (start-up, tests): via "system".
func OriginOf(ctx context.Context) Origin {
	if o, ok := ctx.Value(originKey{}).(*Origin); ok && o != nil {
		return *o
	}
	return Origin{Via: ViaSystem}
}

// OriginRef returns the mutable origin on ctx, nil when there is none.
func OriginRef(ctx context.Context) *Origin {
	o, _ := ctx.Value(originKey{}).(*Origin)
	return o
}
