package actions

import "testing"

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestWakeHandsEachAnnouncementToOneWaiter: a job wakes one idle worker,
// the one that waited longest; a reconnect wakes them all.
func TestWakeHandsEachAnnouncementToOneWaiter(t *testing.T) {
	w := newWake()
	first, _ := w.wait("gpus", "", nil, false)
	second, _ := w.wait("gpus", "", nil, false)
	gone, leave := w.wait("gpus", "", nil, false)
	other, _ := w.wait("lab", "", nil, false)
	leave() // stopped waiting: never woken
	w.ring("gpus", "")
	if !closed(first) || closed(second) || closed(gone) || closed(other) {
		t.Fatalf("after one announcement: first %v second %v gone %v other %v; want only first",
			closed(first), closed(second), closed(gone), closed(other))
	}
	w.ring("gpus", "")
	w.ring("gpus", "") // nobody left: nothing to do
	if !closed(second) || closed(gone) {
		t.Fatal("the second announcement did not wake the second waiter, or woke one that left")
	}
	w.ring("", "")
	if !closed(other) {
		t.Error("a reconnect did not wake every waiter")
	}
}

// TestWakePrefersTheWorkerWithTheModel: a job goes to a waiting worker
// that has its checkpoint loaded, else cached, else the longest waiting.
func TestWakePrefersTheWorkerWithTheModel(t *testing.T) {
	w := newWake()
	plain, _ := w.wait("gpus", "", nil, false)
	hasIt, _ := w.wait("gpus", "other", []string{"aaa"}, false)
	loadedIt, _ := w.wait("gpus", "aaa", []string{"aaa"}, false)
	w.ring("gpus", "aaa")
	if !closed(loadedIt) || closed(hasIt) || closed(plain) {
		t.Fatal("the job did not go to the worker with the checkpoint loaded")
	}
	w.ring("gpus", "aaa")
	if !closed(hasIt) || closed(plain) {
		t.Fatal("the job did not go to the worker with the checkpoint cached")
	}
	w.ring("gpus", "bbb")
	if !closed(plain) {
		t.Fatal("with nobody having the checkpoint, the job did not go to the longest waiting worker")
	}
}

// TestWakeTrainingGoesToATrainer: a training wakes the longest waiting
// worker that can train, and no other.
func TestWakeTrainingGoesToATrainer(t *testing.T) {
	w := newWake()
	plain, _ := w.wait("gpus", "aaa", nil, false)
	trainer, _ := w.wait("gpus", "", nil, true)
	w.ring("gpus", trainingAnnouncement)
	select {
	case <-trainer:
	default:
		t.Fatal("the worker that can train was not woken")
	}
	select {
	case <-plain:
		t.Fatal("a worker that cannot train was woken for a training")
	default:
	}
	w.ring("gpus", trainingAnnouncement) // nobody can train now: nobody is woken
	select {
	case <-plain:
		t.Fatal("a worker that cannot train was woken for a training")
	default:
	}
}
