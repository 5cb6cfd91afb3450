package views

import (
	"net/url"
	"strings"

	"easel/store"
)

// Live updates: a page that shows changing things opens the console's
// event stream (sse-connect="/events", the htmx SSE extension) and its
// elements refresh themselves from the server on the events about them.
// Their polling triggers stay, marked data-poll: app.js stands them down
// while the stream is open and lets them run when it drops. "easel:live"
// is sent by app.js when the stream (re)opens: what changed meanwhile is
// fetched once.

// liveTrigger returns an hx-trigger: poll (may be ""), then the events.
func liveTrigger(poll string, events ...string) string {
	parts := []string{}
	if poll != "" {
		parts = append(parts, poll)
	}
	for _, e := range events {
		parts = append(parts, "sse:"+e)
	}
	return strings.Join(append(parts, "easel:live from:body"), ", ")
}

// endpointTrigger is an endpoint row's: its own events, and any worker's
// for a worker pool.
func endpointTrigger(e store.Endpoint) string {
	events := []string{"endpoint-" + e.ID.String()}
	if e.Backend == "workers" {
		events = append(events, "worker")
	}
	return liveTrigger(refreshEvery(e), events...)
}

// galleryQuery is the gallery's URL for filter f (its first page).
func galleryQuery(f GalleryFilter) string {
	v := url.Values{}
	for k, s := range map[string]string{"user": f.User, "status": f.Status, "model": f.Model, "endpoint": f.Endpoint, "since": f.Since} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "/gallery"
	}
	return "/gallery?" + v.Encode()
}
