package webui_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"easel/gpu"
	"easel/gpu/sim"
	"easel/gpu/webui"
)

func TestMemberDown(t *testing.T) {
	live := newMember(t, sim.Options{}, nil)
	dead := closedURL(t)
	b := backend(t, nil, dead, live.URL)
	ctx := context.Background()
	st, err := b.Status(ctx, "ep")
	if err != nil || st.State != gpu.InService || st.InstanceCount != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if !strings.Contains(st.FailureReason, strings.TrimPrefix(dead, "http://")) {
		t.Errorf("FailureReason %q does not name the dead member", st.FailureReason)
	}
	for range 4 {
		if _, err := b.Invoke(ctx, "ep", txt2img(`{"width":64,"height":64}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, n := live.stats(); n != 4 {
		t.Fatalf("live member served %d of 4", n)
	}
}

func TestAllDown(t *testing.T) {
	d1, d2 := closedURL(t), closedURL(t)
	b := backend(t, nil, d1, d2)
	ctx := context.Background()
	st, err := b.Status(ctx, "ep")
	if err != nil || st.State != gpu.Failed || st.InstanceCount != 0 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	for _, d := range []string{d1, d2} {
		if !strings.Contains(st.FailureReason, strings.TrimPrefix(d, "http://")) {
			t.Errorf("FailureReason %q does not name %s", st.FailureReason, d)
		}
	}
	// Every member is marked unhealthy, so they are tried anyway.
	if _, err := b.Invoke(ctx, "ep", txt2img(`{}`)); !gpu.IsTransient(err) {
		t.Fatalf("invoke on a dead pool: %v", err)
	}
}

func TestFailuresAreTransient(t *testing.T) {
	slow := newMember(t, sim.Options{Delay: 5 * time.Second}, nil)
	b := backend(t, nil, slow.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := b.Invoke(ctx, "ep", txt2img(`{}`)); !gpu.IsTransient(err) {
		t.Fatalf("timeout: %v", err)
	}
	// The member, which would go on generating, was told to stop.
	waitFor(t, "the slow member to be interrupted", func() bool { return simStats(t, slow.URL).Interrupts == 1 })

	// A 5xx member that still answers is transient; after MaxFailures in
	// a row it is skipped in favour of a good one.
	failing, good := newMember(t, sim.Options{FailRate: 1}, nil), newMember(t, sim.Options{}, nil)
	b = backend(t, nil, failing.URL, good.URL)
	b.MaxFailures = 3
	var transient int
	for range 8 {
		_, err := b.Invoke(context.Background(), "ep", txt2img(`{"width":64,"height":64}`))
		if err != nil {
			if !gpu.IsTransient(err) || !strings.Contains(err.Error(), "simulated failure") {
				t.Fatalf("5xx: %v", err)
			}
			transient++
		}
	}
	if _, n := failing.stats(); transient != 3 || n != 3 {
		t.Fatalf("%d transient errors, failing member asked %d times; want 3 and 3", transient, n)
	}
}

func TestBasicAuth(t *testing.T) {
	auth := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "artist" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", "Basic")
				http.Error(w, `{"detail":"Incorrect username or password"}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	m := newMember(t, sim.Options{}, auth)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	withCreds := strings.Replace(m.URL, "http://", "http://artist:s3cret@", 1)
	b := backend(t, log, withCreds)
	ctx := context.Background()
	if st, err := b.Status(ctx, "ep"); err != nil || st.State != gpu.InService {
		t.Fatalf("with credentials: %+v, %v", st, err)
	}
	if _, err := b.Invoke(ctx, "ep", txt2img(`{"width":64,"height":64}`)); err != nil {
		t.Fatal(err)
	}

	b = backend(t, log, m.URL)
	st, err := b.Status(ctx, "ep")
	if err != nil || st.State != gpu.Failed || !strings.Contains(st.FailureReason, "401") {
		t.Fatalf("without credentials: %+v, %v", st, err)
	}
	_, err = b.Invoke(ctx, "ep", txt2img(`{}`))
	var he *webui.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 401 || gpu.IsTransient(err) || !strings.Contains(err.Error(), "Incorrect") {
		t.Fatalf("invoke without credentials: %v", err)
	}

	// Credentials never show.
	wrong := strings.Replace(m.URL, "http://", "http://artist:wrong-s3cret@", 1)
	b = backend(t, log, wrong)
	st, _ = b.Status(ctx, "ep")
	_, err = b.Invoke(ctx, "ep", txt2img(`{}`))
	for _, s := range []string{st.FailureReason, err.Error(), logs.String()} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "artist") {
			t.Fatalf("credentials leaked: %q", s)
		}
	}
}
