package web_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"easel/internal/testenv"
	"easel/jobs"
)

func TestAbandonedUploadsAreRemoved(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	oldID, urls := startUpload(t, s, admin, "old.safetensors", 2)
	chunks, _ := randomChunks(t, 5<<20, 10)
	uploadParts(t, urls[:1], chunks[:1])

	later := *s.App.Store
	later.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	// Seen from eight days later, both uploads started now are abandoned,
	// the half-uploaded one and the untouched one.
	freshID, _ := startUpload(t, s, admin, "fresh.safetensors", 1)
	d := jobs.Deps{Store: &later, Blob: s.App.Blob, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cfg: jobs.Config{UploadTTL: 7 * 24 * time.Hour}}
	if err := jobs.CleanAbandonedUploads(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	left := checkpointsOf(t, s, admin, "")
	if len(left) != 0 {
		t.Errorf("checkpoints left after clean-up: %v (old %s, fresh %s)", left, oldID, freshID)
	}
	uploads, err := s.App.Blob.ListMultipartUploads(t.Context(), "")
	if err != nil || len(uploads) != 0 {
		t.Errorf("open uploads after clean-up: %v %v", uploads, err)
	}

	// With the real clock nothing is abandoned yet.
	keepID, _ := startUpload(t, s, admin, "keep.safetensors", 1)
	d.Store = s.App.Store
	if err := jobs.CleanAbandonedUploads(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if left := checkpointsOf(t, s, admin, ""); len(left) != 1 || left[0]["id"] != keepID {
		t.Errorf("fresh upload removed: %v", left)
	}
}
