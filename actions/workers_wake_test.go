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
	first, _ := w.wait("gpus")
	second, _ := w.wait("gpus")
	gone, leave := w.wait("gpus")
	other, _ := w.wait("lab")
	leave() // stopped waiting: never woken
	w.ring("gpus")
	if !closed(first) || closed(second) || closed(gone) || closed(other) {
		t.Fatalf("after one announcement: first %v second %v gone %v other %v; want only first",
			closed(first), closed(second), closed(gone), closed(other))
	}
	w.ring("gpus")
	w.ring("gpus") // nobody left: nothing to do
	if !closed(second) || closed(gone) {
		t.Fatal("the second announcement did not wake the second waiter, or woke one that left")
	}
	w.ring("")
	if !closed(other) {
		t.Error("a reconnect did not wake every waiter")
	}
}
