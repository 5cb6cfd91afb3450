package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/store"
)

// webhooksChannel is where the database announces new webhook deliveries
// (migration 00012's trigger, in the transaction that changed the job).
const webhooksChannel = "easel_webhooks"

// webhookSweep is how often deliveries are looked for without an
// announcement: one recorded while no replica listened is sent anyway.
var webhookSweep = 30 * time.Second

// DispatchWebhooks inserts a River job for every delivery that has none,
// in the transaction that marks them queued; it returns how many.
// Replicas may call it at once: each delivery is queued once.
func DispatchWebhooks(ctx context.Context, s *store.Store, client *river.Client[pgx.Tx]) (int, error) {
	total := 0
	for {
		n := 0
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			ids, err := store.ClaimWebhookDeliveries(ctx, tx, 100)
			if err != nil || len(ids) == 0 {
				return err
			}
			n = len(ids)
			params := make([]river.InsertManyParams, len(ids))
			for i, id := range ids {
				params[i] = river.InsertManyParams{Args: WebhookArgs{DeliveryID: id}}
			}
			if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
				return fmt.Errorf("enqueue webhook deliveries: %w", err)
			}
			return nil
		})
		total += n
		if err != nil || n < 100 {
			return total, err
		}
	}
}

// FollowWebhooks dispatches deliveries as the database announces them, at
// (re)connection and every webhookSweep, until ctx ends.
func FollowWebhooks(ctx context.Context, s *store.Store, client *river.Client[pgx.Tx], log *slog.Logger) {
	dispatch := func() {
		if _, err := DispatchWebhooks(ctx, s, client); err != nil && ctx.Err() == nil {
			log.Warn("webhooks: dispatch failed", "error", err)
		}
	}
	go func() {
		t := time.NewTicker(webhookSweep)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				dispatch()
			}
		}
	}()
	for ctx.Err() == nil {
		err := s.Listen(ctx, webhooksChannel, func(string) error { dispatch(); return nil })
		if ctx.Err() != nil {
			return
		}
		log.Warn("webhooks: listener stopped; reconnecting", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
