package web_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"easel/blob"
	"easel/internal/testenv"
	"easel/jobs"
)

// TestOrphanedUploadsAreAborted: the sweep aborts the multipart uploads of
// checkpoint files no live job owns (here: a checkpoint that does not
// exist), and leaves browser uploads, uploads outside checkpoint folders
// and uploads younger than EASEL_RESCUE_AFTER alone.
func TestOrphanedUploadsAreAborted(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	ctx := t.Context()
	orphan := "Lora/checkpoint/custom/" + uuid.NewString() + "/gone.safetensors"
	for _, key := range []string{orphan, "datasets/elsewhere/file.bin"} {
		if _, err := s.App.Blob.CreateMultipartUpload(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	startUpload(t, s, testenv.As("admin"), "browser.safetensors", 2)
	before, err := s.App.Blob.ListMultipartUploads(ctx, "")
	if err != nil || len(before) != 3 {
		t.Fatalf("uploads before the sweep: %v %v", before, err)
	}
	d := jobs.Deps{Store: s.App.Store, Blob: s.App.Blob, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cfg: jobs.Config{RescueAfter: time.Minute}}
	// Now, every upload is younger than the rescue bound: none is touched.
	if n, err := jobs.AbortOrphanedUploads(ctx, d); err != nil || n != 0 {
		t.Fatalf("sweep of young uploads: %d aborted, %v", n, err)
	}
	later := *s.App.Store
	later.Now = func() time.Time { return time.Now().Add(time.Hour) }
	d.Store = &later
	if n, err := jobs.AbortOrphanedUploads(ctx, d); err != nil || n != 1 {
		t.Fatalf("sweep an hour later: %d aborted, %v; want 1", n, err)
	}
	after, err := s.App.Blob.ListMultipartUploads(ctx, "")
	if err != nil || len(after) != 2 || slices.ContainsFunc(after, func(u blob.MultipartUpload) bool { return u.Key == orphan }) {
		t.Errorf("uploads after the sweep: %v %v; want the browser's and the one outside checkpoints", after, err)
	}
}
