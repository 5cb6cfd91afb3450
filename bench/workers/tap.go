package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"easel/workerproto"
)

// calls counts a worker's requests to Easel by protocol call, and those to
// the object store (presigned model GETs and image PUTs).
type calls struct {
	Hello, Lease, Leased, Heartbeat, Complete, Fail, Store, Errors atomic.Int64
}

// callCounts is calls as a child reports them.
type callCounts struct {
	Hello, Lease, Leased, Heartbeat, Complete, Fail, Store, Errors int64
}

func (c *calls) snapshot() callCounts {
	return callCounts{Hello: c.Hello.Load(), Lease: c.Lease.Load(), Leased: c.Leased.Load(),
		Heartbeat: c.Heartbeat.Load(), Complete: c.Complete.Load(), Fail: c.Fail.Load(),
		Store: c.Store.Load(), Errors: c.Errors.Load()}
}

func (c callCounts) minus(b callCounts) callCounts {
	return callCounts{Hello: c.Hello - b.Hello, Lease: c.Lease - b.Lease, Leased: c.Leased - b.Leased,
		Heartbeat: c.Heartbeat - b.Heartbeat, Complete: c.Complete - b.Complete, Fail: c.Fail - b.Fail,
		Store: c.Store - b.Store, Errors: c.Errors - b.Errors}
}

// tap is a worker's transport to Easel and the object store. It counts
// the calls; cut makes every call fail as if the machine lost its network;
// strip removes cached and loaded from Lease bodies, so that Easel cannot
// prefer jobs by model (affinity off without changing Easel); armed cuts
// the network as soon as a heartbeat has been answered, and records when;
// hold, when not nil, holds Lease calls until it is closed.
type tap struct {
	base  http.RoundTripper
	calls *calls
	strip bool
	hold  chan struct{}
	cut   atomic.Bool
	armed atomic.Bool
	cutAt atomic.Int64 // unix ns
	asked atomic.Int64 // Lease calls sent
}

var errNetworkDown = errors.New("network down (bench: the worker was cut off)")

func (t *tap) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.cut.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errNetworkDown
	}
	path := r.URL.Path
	if path == workerproto.PathLease {
		t.asked.Add(1)
		if t.hold != nil {
			select {
			case <-t.hold:
			case <-r.Context().Done():
				if r.Body != nil {
					r.Body.Close()
				}
				return nil, r.Context().Err()
			}
		}
		if t.strip {
			var err error
			if r, err = stripAffinity(r); err != nil {
				return nil, err
			}
		}
	}
	res, err := t.base.RoundTrip(r)
	if err != nil {
		t.calls.Errors.Add(1)
		return res, err
	}
	switch path {
	case workerproto.PathHello:
		t.calls.Hello.Add(1)
	case workerproto.PathLease:
		t.calls.Lease.Add(1)
		if res.StatusCode == http.StatusOK {
			t.calls.Leased.Add(1)
		}
	case workerproto.PathHeartbeat:
		t.calls.Heartbeat.Add(1)
		if res.StatusCode == http.StatusOK && t.armed.CompareAndSwap(true, false) {
			t.cut.Store(true)
			t.cutAt.Store(time.Now().UnixNano())
		}
	case workerproto.PathComplete:
		t.calls.Complete.Add(1)
	case workerproto.PathFail:
		t.calls.Fail.Add(1)
	default:
		t.calls.Store.Add(1)
	}
	return res, nil
}

// stripAffinity returns a copy of the Lease request r without the cached
// and loaded fields.
func stripAffinity(r *http.Request) (*http.Request, error) {
	raw, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	delete(body, "cached")
	delete(body, "loaded")
	if raw, err = json.Marshal(body); err != nil {
		return nil, err
	}
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(raw))
	out.ContentLength = int64(len(raw))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	return out, nil
}
