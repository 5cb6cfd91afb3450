package actions

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"easel/policy"
	"easel/store"
)

// eventsChannel is where the database announces changes (migration
// 00012's triggers, when the changing transaction commits).
const eventsChannel = "easel_events"

// Limits of live event streams.
const (
	// MaxStreamsPerUser is how many streams one principal may hold open.
	MaxStreamsPerUser = 8
	// subscriberBuffer is how many events wait for a slow reader before it
	// is dropped (writers never wait).
	subscriberBuffer = 64
)

// Event is one announced change: of an inference (with its state), an
// endpoint, a worker or a checkpoint. Kind "resync" says events may have
// been missed (the listener reconnected): look again.
type Event struct {
	Kind     string  `json:"kind"`
	ID       string  `json:"id"`
	Owner    string  `json:"owner,omitempty"`
	Status   string  `json:"status"`
	Progress float32 `json:"progress"`
	Stage    string  `json:"stage,omitempty"`
	Worker   string  `json:"worker,omitempty"`
}

// Events fans the announcements of every replica out to this process's
// subscribers: one LISTEN per process, a bounded buffer per subscriber.
type Events struct {
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	perUser map[string]int
}

// NewEvents returns the event fan-out; Follow feeds it.
func NewEvents(s *store.Store, p *policy.Policy, log *slog.Logger) *Events {
	return &Events{store: s, policy: p, log: log, subs: map[*Subscription]struct{}{}, perUser: map[string]int{}}
}

// Subscription receives the events its principal may see.
type Subscription struct {
	c         chan Event
	actor     policy.Principal
	inference string // only this inference's events ("" all)
	e         *Events
	closed    bool
}

// Subscribe opens a stream for actor: of one inference (inference, which
// the caller has checked actor may see) or of everything actor may see
// (""). It fails with ETooMany past MaxStreamsPerUser.
func (e *Events) Subscribe(actor policy.Principal, inference string) (*Subscription, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.perUser[actor.Name()] >= MaxStreamsPerUser {
		return nil, store.Errorf(store.ETooMany, "%s has %d live event streams open, the most one user may have; close one first.", actor.Name(), MaxStreamsPerUser)
	}
	s := &Subscription{c: make(chan Event, subscriberBuffer), actor: actor, inference: inference, e: e}
	e.subs[s] = struct{}{}
	e.perUser[actor.Name()]++
	return s, nil
}

// Close ends the subscription (again: no-op).
func (s *Subscription) Close() {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	s.e.drop(s)
}

// drop removes s; the caller holds mu.
func (e *Events) drop(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	delete(e.subs, s)
	if e.perUser[s.actor.Name()]--; e.perUser[s.actor.Name()] <= 0 {
		delete(e.perUser, s.actor.Name())
	}
}

// Next returns the next event the subscriber may see; ok is false when
// the subscription was dropped (it fell behind) or ctx ended.
func (s *Subscription) Next(ctx context.Context) (ev Event, ok bool) {
	for {
		select {
		case <-ctx.Done():
			return Event{}, false
		case ev, ok = <-s.c:
			if !ok {
				return Event{}, false
			}
		}
		if ev.Kind != "checkpoint" || s.mayListCheckpoint(ctx, ev) {
			return ev, true
		}
	}
}

// mayListCheckpoint applies the checkpoint list's SQL visibility rule (a
// deleted checkpoint's id is told to everyone who may list checkpoints).
func (s *Subscription) mayListCheckpoint(ctx context.Context, ev Event) bool {
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return false
	}
	if ev.Status == "deleted" {
		return true
	}
	viewer, err := checkpointViewer(ctx, s.e.store, s.e.policy, s.actor)
	if err != nil {
		return false
	}
	_, err = store.FindVisibleCheckpoint(ctx, s.e.store.DB(), viewer, id, false)
	return err == nil
}

// visible says whether s receives ev, by permission (checkpoint rows are
// checked further by Next).
func (e *Events) visible(s *Subscription, ev Event) bool {
	if ev.Kind == "resync" {
		return true
	}
	if s.inference != "" {
		return ev.Kind == "inference" && ev.ID == s.inference
	}
	switch ev.Kind {
	case "inference":
		return e.policy.Can(s.actor, policy.InferenceList) &&
			(ev.Owner == s.actor.Name() || e.policy.Can(s.actor, policy.InferenceAll))
	case "endpoint", "worker":
		return e.policy.Can(s.actor, policy.EndpointList)
	case "checkpoint":
		return e.policy.Can(s.actor, policy.CheckpointList)
	}
	return false
}

// Publish hands ev to every subscriber that may see it; one whose buffer
// is full is dropped, never waited for.
func (e *Events) Publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.subs {
		if !e.visible(s, ev) {
			continue
		}
		select {
		case s.c <- ev:
		default:
			e.drop(s)
		}
	}
}

// Follow relays the announcements of every replica until ctx ends,
// reconnecting (and telling subscribers to resync) when the connection
// drops.
func (e *Events) Follow(ctx context.Context) {
	for ctx.Err() == nil {
		err := e.store.Listen(ctx, eventsChannel, func(payload string) error {
			var ev Event
			if payload == "" {
				ev.Kind = "resync"
			} else if err := json.Unmarshal([]byte(payload), &ev); err != nil {
				e.log.Warn("events: unreadable announcement", "payload", payload, "error", err)
				return nil
			}
			e.Publish(ev)
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		e.log.Warn("events: listener stopped; reconnecting", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
