package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"easel/gpu"
	"easel/gpu/a1111"
	"easel/gpu/sim"
	"easel/gpu/webui"
)

func TestStatusAndLifecycle(t *testing.T) {
	m := newMember(t, sim.Options{}, nil)
	b := backend(t, nil, m.URL)
	ctx := context.Background()
	st, err := b.Status(ctx, "ep")
	if err != nil || st.State != gpu.InService || st.InstanceCount != 1 || !st.Simulator {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := b.Scale(ctx, "ep", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Status(ctx, "other"); !errors.Is(err, gpu.ErrNotFound) {
		t.Fatalf("unknown endpoint: %v", err)
	}
	if _, err := b.Invoke(ctx, "other", txt2img(`{}`)); !errors.Is(err, gpu.ErrNotFound) {
		t.Fatalf("invoke unknown endpoint: %v", err)
	}
	err = b.Deploy(ctx, gpu.Spec{Name: "x", InstanceType: "nope"})
	if err == nil || !strings.Contains(err.Error(), "studio") {
		t.Fatalf("unknown pool: %v", err)
	}
	if err := b.Delete(ctx, "ep"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "ep"); err != nil {
		t.Fatal("deleting twice:", err)
	}
	if _, err := b.Status(ctx, "ep"); !errors.Is(err, gpu.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}

	// After a restart, Attach alone makes an endpoint usable again.
	b2 := webui.New([]webui.Pool{{Name: "studio", Members: []*url.URL{mustURL(t, m.URL)}}}, nil, nil)
	if err := b2.Attach("ep", "studio"); err != nil {
		t.Fatal(err)
	}
	if err := b2.Attach("ep", "lab"); err == nil || !strings.Contains(err.Error(), "studio") {
		t.Fatalf("Attach to unknown pool: %v", err)
	}
	if _, err := b2.Invoke(ctx, "ep", txt2img(`{"width":64,"height":64}`)); err != nil {
		t.Fatal(err)
	}
}

func TestInvokeTasks(t *testing.T) {
	m := newMember(t, sim.Options{}, nil)
	b := backend(t, nil, m.URL)
	ctx := context.Background()
	res, err := b.Invoke(ctx, "ep", txt2img(`{"prompt":"fox","seed":7,"width":96,"height":64,"batch_size":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 {
		t.Fatalf("%d images", len(res.Images))
	}
	for _, s := range res.Images {
		if b := decodePNG(t, s).Bounds(); b.Dx() != 96 || b.Dy() != 64 {
			t.Fatalf("image is %v", b)
		}
	}
	var info struct {
		AllSeeds []int64 `json:"all_seeds"`
	}
	if err := json.Unmarshal([]byte(res.Info), &info); err != nil || len(info.AllSeeds) != 2 {
		t.Fatalf("info %q: %v", res.Info, err)
	}
	if !bytes.Contains(res.Parameters, []byte(`"fox"`)) {
		t.Fatalf("parameters = %s", res.Parameters)
	}

	init, _ := json.Marshal(map[string]any{"init_images": []string{res.Images[0]}, "width": 64, "height": 64})
	if res, err = b.Invoke(ctx, "ep", gpu.Request{Task: "img2img", Params: init}); err != nil || len(res.Images) != 1 {
		t.Fatalf("img2img: %v", err)
	}
	up, _ := json.Marshal(map[string]any{"image": res.Images[0], "upscaling_resize": 2})
	res, err = b.Invoke(ctx, "ep", gpu.Request{Task: "extra-single-image", Params: up})
	if err != nil {
		t.Fatal("extra-single-image:", err)
	}
	if b := decodePNG(t, res.Images[0]).Bounds(); b.Dx() != 128 {
		t.Fatalf("upscaled to %v", b)
	}
	if !json.Valid([]byte(res.Info)) || !strings.Contains(res.Info, "html_info") {
		t.Fatalf("info = %q", res.Info)
	}

	if _, err := b.Invoke(ctx, "ep", gpu.Request{Task: "interrogate"}); err == nil || !strings.Contains(err.Error(), "interrogate") {
		t.Fatalf("unknown task: %v", err)
	}
	// 4xx: A1111's error text, not transient.
	_, err = b.Invoke(ctx, "ep", txt2img(`{"width":4096}`))
	var he *webui.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || gpu.IsTransient(err) || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("oversized request: %v", err)
	}
	_, err = b.Invoke(ctx, "ep", txt2img(`{"steps":"many"}`))
	if !errors.As(err, &he) || he.StatusCode != 422 || gpu.IsTransient(err) {
		t.Fatalf("wrong type: %v", err)
	}
	// Parameters that are not a JSON object never reach a member.
	_, gens := m.stats()
	_, err = b.Invoke(ctx, "ep", txt2img(`{"prompt":`))
	if !errors.Is(err, a1111.ErrInvalid) || gpu.IsTransient(err) {
		t.Fatalf("bad JSON: %v", err)
	}
	if _, after := m.stats(); after != gens {
		t.Errorf("bad JSON reached the member")
	}
}

func TestOneRequestPerMember(t *testing.T) {
	opts := sim.Options{Delay: 200 * time.Millisecond}
	m1, m2 := newMember(t, opts, nil), newMember(t, opts, nil)
	b := backend(t, nil, m1.URL, m2.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := b.Invoke(context.Background(), "ep", txt2img(`{"width":64,"height":64}`))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range []*member{m1, m2} {
		if mx, n := m.stats(); mx != 1 || n != 2 {
			t.Errorf("member %d: max in flight %d, requests %d; want 1 and 2", i+1, mx, n)
		}
	}
}

func TestWaitHonoursContext(t *testing.T) {
	m := newMember(t, sim.Options{Delay: 2 * time.Second}, nil)
	b := backend(t, nil, m.URL)
	first := make(chan struct{})
	go func() {
		defer close(first)
		b.Invoke(context.Background(), "ep", txt2img(`{}`)) //nolint:errcheck
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, gens := m.stats(); gens == 1 {
			break // the only member is busy now
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached the member")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := b.Invoke(ctx, "ep", txt2img(`{}`))
	select {
	case <-first:
		t.Fatal("the second request waited for the member instead of its context")
	default:
	}
	if err == nil || !gpu.IsTransient(err) {
		t.Fatalf("waiting for a busy member: %v, want a transient error (worth retrying)", err)
	}
	if _, gens := m.stats(); gens != 1 {
		t.Errorf("the member got %d requests, want only the first", gens)
	}
}
