package worker_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"easel/workerproto"
)

const testKey = "ewk_test-key"

// fakeEasel is the server side of the lease protocol, in process: a job
// queue, leases by token, and a record of every call.
type fakeEasel struct {
	srv *httptest.Server

	mu        sync.Mutex
	queue     []workerproto.Job
	tokens    map[string]string // job id → token of the live lease
	hellos    []workerproto.Hello
	leases    []workerproto.LeaseRequest
	beats     []workerproto.Heartbeat
	completes []workerproto.Complete
	fails     []workerproto.Fail
	forget    bool // answer the next Lease 404 (Easel forgot the worker)
	// onBeat answers a heartbeat (nil: 200 with the deadline unchanged).
	onBeat func(workerproto.Heartbeat) (int, workerproto.HeartbeatReply)
	wake   chan struct{}
}

func newFakeEasel(t *testing.T) *fakeEasel {
	e := &fakeEasel{tokens: map[string]string{}, wake: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+workerproto.PathHello, e.hello)
	mux.HandleFunc("POST "+workerproto.PathLease, e.lease)
	mux.HandleFunc("POST "+workerproto.PathHeartbeat, e.heartbeat)
	mux.HandleFunc("POST "+workerproto.PathComplete, e.complete)
	mux.HandleFunc("POST "+workerproto.PathFail, e.fail)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			http.Error(w, "bad key", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// add queues a job and wakes a waiting Lease.
func (e *fakeEasel) add(j workerproto.Job) {
	e.mu.Lock()
	if j.Token == "" {
		j.Token = "token-" + j.ID
	}
	e.queue = append(e.queue, j)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func decode[T any](r *http.Request) T {
	var v T
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		panic(fmt.Sprintf("fake Easel: decoding %s: %v", r.URL.Path, err))
	}
	return v
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (e *fakeEasel) hello(w http.ResponseWriter, r *http.Request) {
	h := decode[workerproto.Hello](r)
	e.mu.Lock()
	e.hellos = append(e.hellos, h)
	e.mu.Unlock()
	reply(w, http.StatusOK, workerproto.Welcome{WorkerID: fmt.Sprintf("w%d", len(e.hellos)), Pool: "test",
		HeartbeatInterval: workerproto.Duration{Duration: 10 * time.Millisecond},
		LeaseTTL:          workerproto.Duration{Duration: time.Second}})
}

func (e *fakeEasel) lease(w http.ResponseWriter, r *http.Request) {
	req := decode[workerproto.LeaseRequest](r)
	e.mu.Lock()
	e.leases = append(e.leases, req)
	forget := e.forget
	e.forget = false
	e.mu.Unlock()
	if forget {
		http.Error(w, "unknown worker", http.StatusNotFound)
		return
	}
	t := time.NewTimer(min(req.Wait.Duration, 200*time.Millisecond))
	defer t.Stop()
	for {
		e.mu.Lock()
		if len(e.queue) > 0 {
			j := e.queue[0]
			e.queue = e.queue[1:]
			e.tokens[j.ID] = j.Token
			e.mu.Unlock()
			reply(w, http.StatusOK, j)
			return
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-t.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// live reports whether token holds job's lease, under e.mu.
func (e *fakeEasel) live(job, token string) bool { return token != "" && e.tokens[job] == token }

func (e *fakeEasel) heartbeat(w http.ResponseWriter, r *http.Request) {
	hb := decode[workerproto.Heartbeat](r)
	e.mu.Lock()
	e.beats = append(e.beats, hb)
	live, onBeat := e.live(hb.JobID, hb.Token), e.onBeat
	e.mu.Unlock()
	if !live {
		w.WriteHeader(http.StatusConflict)
		return
	}
	code, rep := http.StatusOK, workerproto.HeartbeatReply{}
	if onBeat != nil {
		code, rep = onBeat(hb)
	}
	reply(w, code, rep)
}

func (e *fakeEasel) complete(w http.ResponseWriter, r *http.Request) {
	c := decode[workerproto.Complete](r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.live(c.JobID, c.Token) {
		w.WriteHeader(http.StatusConflict)
		return
	}
	delete(e.tokens, c.JobID)
	e.completes = append(e.completes, c)
	reply(w, http.StatusOK, struct{}{})
}

func (e *fakeEasel) fail(w http.ResponseWriter, r *http.Request) {
	f := decode[workerproto.Fail](r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.live(f.JobID, f.Token) {
		w.WriteHeader(http.StatusConflict)
		return
	}
	delete(e.tokens, f.JobID)
	e.fails = append(e.fails, f)
	reply(w, http.StatusOK, struct{}{})
}

// ended returns the Complete or Fail of a job once it has one.
func (e *fakeEasel) ended(id string) (*workerproto.Complete, *workerproto.Fail, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.completes {
		if e.completes[i].JobID == id {
			c := e.completes[i]
			return &c, nil, true
		}
	}
	for i := range e.fails {
		if e.fails[i].JobID == id {
			f := e.fails[i]
			return nil, &f, true
		}
	}
	return nil, nil, false
}

// counts returns how many calls of each kind were made.
func (e *fakeEasel) counts() (hellos, leases, beats int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.hellos), len(e.leases), len(e.beats)
}
