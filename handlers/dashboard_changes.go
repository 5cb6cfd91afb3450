package handlers

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"easel/store"
	"easel/views"
)

// changeNamer resolves audit entries to the things they changed, for the
// dashboard's recent changes and the Audit page.
type changeNamer struct{ store *store.Store }

// changes resolves audit entries to the things they changed: the name each
// has now, and its page when it still exists and the viewer may list its
// kind.
func (h changeNamer) changes(ctx context.Context, entries []store.AuditEntry, can views.Can) ([]views.Change, error) {
	out := make([]views.Change, len(entries))
	for i, a := range entries {
		ch, err := h.change(ctx, a, can)
		if err != nil {
			return nil, err
		}
		out[i] = ch
	}
	return out, nil
}

func (h changeNamer) change(ctx context.Context, a store.AuditEntry, can views.Can) (views.Change, error) {
	ch := views.Change{Entry: a}
	kind, verb, _ := strings.Cut(a.Action, ".")
	if verb == "delete" || verb == "abandoned" {
		// The target (or, for models, the detail) names what is gone.
		ch.Name, ch.Gone = a.Target, true
		switch kind {
		case "checkpoint":
			ch.Name = strings.ReplaceAll(a.Detail, ",", ", ")
		case "inference":
			ch.Name = a.Target[:min(8, len(a.Target))]
		}
		return ch, nil
	}
	pool := h.store.DB()
	var err error
	switch kind {
	case "checkpoint":
		var c store.Checkpoint
		if c, err = findByID(ctx, a.Target, func(id uuid.UUID) (store.Checkpoint, error) { return store.FindCheckpoint(ctx, pool, id) }); err == nil {
			ch.Name = firstOf(c.Names)
			ch.Href = linkIf(can.ListModels, "/models?q="+url.QueryEscape(ch.Name))
		} else if a.Action == "checkpoint.upload" {
			ch.Name = a.Detail
		}
	case "inference":
		var j store.Inference
		if j, err = findByID(ctx, a.Target, func(id uuid.UUID) (store.Inference, error) { return store.FindInference(ctx, pool, id) }); err == nil {
			ch.Name = jobName(j, can)
			ch.Href = linkIf(can.ListJobs && (can.AllJobs || j.Owner == a.Actor), "/gallery/"+j.ID.String())
		}
	case "key":
		var k store.APIKey
		if k, err = findByID(ctx, a.Target, func(id uuid.UUID) (store.APIKey, error) { return store.FindKey(ctx, pool, id) }); err == nil {
			ch.Name, ch.Href = k.Name, "/keys"
		} else {
			ch.Name = a.Detail
		}
	case "role":
		ch.Name = a.Target
		if _, err = store.FindRole(ctx, pool, a.Target); err == nil {
			ch.Href = linkIf(can.ListRoles, "/roles")
		}
	case "user":
		ch.Name = a.Target
		if _, err = store.FindUser(ctx, h.store.DB(), a.Target); err == nil {
			ch.Href = linkIf(can.ListUsers, "/users")
		}
	case "endpoint":
		ch.Name = a.Target
		if _, err = store.FindEndpointByName(ctx, pool, a.Target); err == nil {
			ch.Href = linkIf(can.ListEndpoints, "/endpoints/"+url.PathEscape(a.Target))
		}
	default:
		ch.Name = a.Target
	}
	if errors.Is(err, store.ErrNotFound) {
		ch.Gone, err = true, nil
	}
	return ch, err
}

// findByID parses raw as a UUID and finds its row; a malformed id is a row
// that is not there.
func findByID[T any](ctx context.Context, raw string, find func(uuid.UUID) (T, error)) (T, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		var zero T
		return zero, store.ErrNotFound
	}
	return find(id)
}

// jobName names a job by its prompt, cut short; a job is named by the
// start of its id for those who may not see every job's prompt.
func jobName(j store.Inference, can views.Can) string {
	name := []rune(j.Prompt)
	if len(name) == 0 || !can.AllJobs {
		return j.ID.String()[:8]
	}
	if len(name) > 48 {
		return "“" + string(name[:47]) + "…”"
	}
	return "“" + string(name) + "”"
}

func linkIf(ok bool, href string) string {
	if ok {
		return href
	}
	return ""
}

func firstOf(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}
