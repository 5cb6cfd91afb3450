package policy

import (
	"context"
	"log/slog"
	"time"
)

// Follow keeps the snapshot current with changes made by any replica: it
// LISTENs for Changed notifications and reloads on each, until ctx ends.
// A lost connection is re-established and followed by a full reload, so a
// notification missed meanwhile cannot leave the snapshot stale.
func (p *Policy) Follow(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		err := p.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn("policy: change listener stopped; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (p *Policy) listen(ctx context.Context) error {
	return p.store.Listen(ctx, changesChannel, func(string) error { return p.Reload(ctx) })
}
