package policy

import (
	"context"
	"fmt"
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
	pooled, err := p.store.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+changesChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := p.Reload(ctx); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		if err := p.Reload(ctx); err != nil {
			return err
		}
	}
}
