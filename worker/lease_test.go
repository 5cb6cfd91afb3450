package worker_test

import (
	"net/http"
	"testing"
	"time"

	"easel/worker"
	"easel/workerproto"
)

// blockedJob queues a job whose generation blocks in the fake WebUI,
// starts the worker and waits until it generates.
func blockedJob(t *testing.T, tune func(*worker.Config), onBeat func(workerproto.Heartbeat) (int, workerproto.HeartbeatReply)) (*run, *fakeWebUI) {
	t.Helper()
	easel, store, dir := newFakeEasel(t), newFakeStore(t), modelsDir(t)
	webui := newFakeWebUI(t, dir)
	webui.block = true
	ckpt := store.model("Stable-diffusion", "m.safetensors", "weights")
	easel.add(workerproto.Job{ID: "j1", Task: "txt2img", Models: []workerproto.Model{ckpt},
		Checkpoint: ckpt.Name, Uploads: store.uploads("j1", 1)})
	r := startWorker(t, webui.srv.URL, dir, easel, store, tune)
	waitFor(t, "the generation", webui.isRunning)
	easel.mu.Lock()
	easel.onBeat = onBeat
	easel.mu.Unlock()
	return r, webui
}

func interrupts(w *fakeWebUI) int {
	_, n, _ := w.count()
	return n
}

func TestConflictOnHeartbeatDropsTheJob(t *testing.T) {
	r, webui := blockedJob(t, nil, func(workerproto.Heartbeat) (int, workerproto.HeartbeatReply) {
		return http.StatusConflict, workerproto.HeartbeatReply{}
	})
	waitFor(t, "the interrupt", func() bool { return interrupts(webui) > 0 })
	_, leases, _ := r.easel.counts()
	waitFor(t, "the next lease", func() bool {
		_, n, _ := r.easel.counts()
		return n > leases
	})
	r.easel.mu.Lock()
	defer r.easel.mu.Unlock()
	if len(r.easel.completes)+len(r.easel.fails) > 0 {
		t.Errorf("completes %v, fails %v; want the job dropped without a word", r.easel.completes, r.easel.fails)
	}
}

func TestCancelledInterruptsAndFails(t *testing.T) {
	r, webui := blockedJob(t, nil, func(workerproto.Heartbeat) (int, workerproto.HeartbeatReply) {
		return http.StatusOK, workerproto.HeartbeatReply{Cancelled: true}
	})
	f := mustFail(t, r.easel, "j1")
	if f.Transient || f.Error != "cancelled" {
		t.Errorf("Fail = %+v, want a final failure: cancelled", f)
	}
	if interrupts(webui) == 0 {
		t.Error("the WebUI was not interrupted")
	}
}

func TestDeadlineInterruptsAndFails(t *testing.T) {
	r, webui := blockedJob(t, nil, func(workerproto.Heartbeat) (int, workerproto.HeartbeatReply) {
		return http.StatusOK, workerproto.HeartbeatReply{Deadline: workerproto.Time{Time: time.Now().Add(-time.Second)}}
	})
	f := mustFail(t, r.easel, "j1")
	if f.Transient || f.Error != "the job's deadline passed" {
		t.Errorf("Fail = %+v, want a final failure: deadline", f)
	}
	if interrupts(webui) == 0 {
		t.Error("the WebUI was not interrupted")
	}
}

func TestShutdownReturnsALongJob(t *testing.T) {
	r, webui := blockedJob(t, func(c *worker.Config) { c.Grace = time.Millisecond }, nil)
	if err := r.stop(); err != nil {
		t.Errorf("Run = %v, want nil after a shutdown", err)
	}
	f := mustFail(t, r.easel, "j1")
	if !f.Transient {
		t.Errorf("Fail = %+v, want transient so that another worker takes the job", f)
	}
	if interrupts(webui) == 0 {
		t.Error("the WebUI was not interrupted")
	}
}

func TestShutdownFinishesAJobWithinGrace(t *testing.T) {
	r, webui := blockedJob(t, func(c *worker.Config) { c.Grace = time.Hour }, nil)
	r.cancel()
	close(webui.release)
	if err := r.wait(); err != nil {
		t.Errorf("Run = %v, want nil after a shutdown", err)
	}
	mustComplete(t, r.easel, "j1")
	if interrupts(webui) != 0 {
		t.Error("a job finishing within the grace period was interrupted")
	}
}
