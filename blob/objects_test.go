package blob_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"easel/blob"
)

func TestPutGetHead(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	body := []byte(`{"name":"sdxl"}`)
	if err := c.Put(ctx, "meta/a.json", body, "application/json"); err != nil {
		t.Fatal(err)
	}
	size, err := c.Head(ctx, "meta/a.json")
	if err != nil || size != int64(len(body)) {
		t.Fatalf("Head = %d, %v; want %d", size, err, len(body))
	}
	rc, err := c.Get(ctx, "meta/a.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %q, %v; want %q", got, err, body)
	}

	if _, err := c.Head(ctx, "meta/missing"); !blob.IsNotFound(err) {
		t.Errorf("Head of a missing key: %v, want not found", err)
	}
	if _, err := c.Get(ctx, "meta/missing"); !blob.IsNotFound(err) {
		t.Errorf("Get of a missing key: %v, want not found", err)
	}
	if blob.IsNotFound(nil) || blob.IsInvalidPart(nil) || blob.IsNotFound(io.EOF) {
		t.Error("non-API errors classified as API errors")
	}
}

func TestDeletePrefix(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	const inside = 1005 // more than one ListObjectsV2 page / DeleteObjects batch
	for i := range inside {
		if err := c.Put(ctx, fmt.Sprintf("models/x/f%04d", i), []byte("x"), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Put(ctx, "models/x/sub/dir/deep.bin", []byte("deep"), ""); err != nil {
		t.Fatal(err)
	}
	outside := []string{"models/x-other/keep.bin", "models/xfile", "models/y/keep.bin"}
	for _, k := range outside {
		if err := c.Put(ctx, k, []byte("keep"), ""); err != nil {
			t.Fatal(err)
		}
	}
	uploadParts(t, c, "models/x/pending.bin", randomBytes(t, 100))
	outUpload, _ := uploadParts(t, c, "models/y/pending.bin", randomBytes(t, 100))

	n, err := c.DeletePrefix(ctx, "models/x/")
	if err != nil {
		t.Fatal(err)
	}
	if n != inside+1 {
		t.Errorf("DeletePrefix deleted %d, want %d", n, inside+1)
	}
	for _, k := range []string{"models/x/f0000", "models/x/f1004", "models/x/sub/dir/deep.bin"} {
		if _, err := c.Head(ctx, k); !blob.IsNotFound(err) {
			t.Errorf("Head %s after DeletePrefix: %v, want not found", k, err)
		}
	}
	for _, k := range outside {
		if _, err := c.Head(ctx, k); err != nil {
			t.Errorf("Head %s (outside the prefix): %v", k, err)
		}
	}
	assertNoUploads(t, c, "models/x/")
	uploads, err := c.ListMultipartUploads(ctx, "models/")
	if err != nil || len(uploads) != 1 || uploads[0].UploadID != outUpload {
		t.Errorf("uploads left under models/: %+v, %v; want only %s", uploads, err, outUpload)
	}

	if n, err := c.DeletePrefix(ctx, "models/x/"); err != nil || n != 0 {
		t.Errorf("second DeletePrefix = %d, %v; want 0, nil", n, err)
	}
	if _, err := c.DeletePrefix(ctx, ""); err == nil {
		t.Error("DeletePrefix of the empty prefix succeeded")
	}
}
