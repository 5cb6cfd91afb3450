package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
)

// Events serves live event streams: the console's (everything its user
// may see) and one inference's for API clients.
type Events struct {
	events     *actions.Events
	inferences *Inferences
}

// NewEvents returns the event stream handlers.
func NewEvents(e *actions.Events, inf *Inferences) *Events {
	return &Events{events: e, inferences: inf}
}

// ConsoleStream is GET /events. Each change comes as two events, a
// general one ("inference") and a particular one ("inference-<id>"), so
// a page can refresh a list or one row; "resync" asks for a full refresh
// (events may have been missed, also on a reconnection).
func (h *Events) ConsoleStream(c echo.Context) error {
	sub, err := h.events.Subscribe(actor(c), "")
	if err != nil {
		return err
	}
	defer sub.Close()
	s := startSSE(c)
	if c.Request().Header.Get("Last-Event-ID") != "" {
		if err := s.event("", "resync", []byte(`{"kind":"resync"}`)); err != nil {
			return nil
		}
	}
	next := streamEvents(c, sub)
	seq := 0
	for {
		ev, ok, beat := next()
		if !ok {
			return nil
		}
		if beat {
			if s.comment("heartbeat") != nil {
				return nil
			}
			continue
		}
		seq++
		data, _ := json.Marshal(ev)
		id := fmt.Sprint(seq)
		if s.event(id, ev.Kind, data) != nil || (ev.ID != "" && s.event(id, ev.Kind+"-"+ev.ID, data) != nil) {
			return nil
		}
	}
}

// streamEvents returns a function that waits for sub's next event or a
// heartbeat: ok is false when the subscription or the request ended.
func streamEvents(c echo.Context, sub *actions.Subscription) func() (ev actions.Event, ok, beat bool) {
	ctx := c.Request().Context()
	evs := make(chan actions.Event)
	go func() {
		defer close(evs)
		for {
			ev, ok := sub.Next(ctx)
			if !ok {
				return
			}
			select {
			case evs <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	t := time.NewTicker(Heartbeat)
	return func() (actions.Event, bool, bool) {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Stop()
			}
			return ev, ok, false
		case <-t.C:
			return actions.Event{}, true, true
		}
	}
}

// InferenceStream is GET /inferences/{id}/events: the job as GET
// /inferences/{id} shows it (with its progress), first as it is, then at
// each change, until it is final. Event ids are the job's state: a client
// resuming with Last-Event-ID is not sent the state it has.
func (h *Events) InferenceStream(c echo.Context) error {
	ctx := c.Request().Context()
	// Subscribed first, so that no change between the read and the
	// subscription is missed.
	sub, err := h.events.Subscribe(actor(c), strings.ToLower(c.Param("id")))
	if err != nil {
		return err
	}
	defer sub.Close()
	job, err := h.inferences.Get(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	s := startSSE(c)
	last := c.Request().Header.Get("Last-Event-ID")
	send := func(job store.Inference) error {
		id := fmt.Sprintf("%s.%s.%d", job.Status, job.Stage, int(job.Progress*100))
		if id == last {
			return nil
		}
		last = id
		detail, err := h.inferences.detail(c, job)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"status": job.Status, "progress": job.Progress,
			"stage": job.Stage, "worker": job.WorkerName, "inference": detail})
		return s.event(id, "inference", data)
	}
	if err := send(job); err != nil {
		return nil
	}
	next := streamEvents(c, sub)
	for !final(job) {
		_, ok, beat := next()
		switch {
		case !ok:
			return nil
		case beat:
			err = s.comment("heartbeat")
		default:
			job, err = store.FindInference(ctx, h.inferences.store.DB(), job.ID)
			if errors.Is(err, store.ErrNotFound) {
				return s.event("", "deleted", []byte(`{"status":"deleted"}`))
			}
			if err == nil {
				err = send(job)
			}
		}
		if err != nil {
			return nil
		}
	}
	return nil
}

func final(job store.Inference) bool {
	return job.Status == store.InferenceSucceeded || job.Status == store.InferenceFailed
}
