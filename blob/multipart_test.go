package blob_test

import (
	"bytes"
	"testing"
	"time"

	"easel/blob"
)

const mib = 1 << 20

// uploadParts starts an upload of key and PUTs each chunk through its
// presigned UploadPart URL, returning the upload ID and the parts.
func uploadParts(t *testing.T, c *blob.Client, key string, chunks ...[]byte) (string, []blob.Part) {
	t.Helper()
	ctx := t.Context()
	id, err := c.CreateMultipartUpload(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var parts []blob.Part
	for i, chunk := range chunks {
		n := int32(i + 1)
		url, err := c.PresignUploadPart(ctx, key, id, n, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, blob.Part{Number: n, ETag: presignedPut(t, url, chunk)})
	}
	return id, parts
}

func TestPresignedMultipartUpload(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	data := randomBytes(t, 5*mib+5*mib+1234)
	key := "models/a/model.safetensors"
	id, parts := uploadParts(t, c, key, data[:5*mib], data[5*mib:10*mib], data[10*mib:])

	shuffled := []blob.Part{parts[2], parts[0], parts[1]}
	etag, err := c.CompleteMultipartUpload(ctx, key, id, shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if etag == "" {
		t.Error("complete returned no ETag")
	}
	if got := getAll(t, c, key); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, differ from the %d uploaded", len(got), len(data))
	}
	size, err := c.Head(ctx, key)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("Head = %d, %v; want %d", size, err, len(data))
	}

	if _, err := c.CompleteMultipartUpload(ctx, key, id, parts); !blob.IsNotFound(err) {
		t.Fatalf("second complete: %v, want not found", err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, key, "no-such-upload", parts); !blob.IsNotFound(err) {
		t.Fatalf("complete of an unknown upload: %v, want not found", err)
	}
	if err := c.AbortMultipartUpload(ctx, key, id); err != nil {
		t.Fatalf("abort after complete: %v", err)
	}
	if got := getAll(t, c, key); !bytes.Equal(got, data) {
		t.Fatal("object changed after the second complete and the abort")
	}
}

func TestCompleteWrongETag(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	data := randomBytes(t, 5*mib+100)
	key := "models/b/model.bin"
	id, parts := uploadParts(t, c, key, data[:5*mib], data[5*mib:])

	bad := []blob.Part{parts[0], {Number: 2, ETag: `"00000000000000000000000000000000"`}}
	_, err := c.CompleteMultipartUpload(ctx, key, id, bad)
	if err == nil {
		t.Fatal("complete with a wrong ETag succeeded")
	}
	if !blob.IsInvalidPart(err) {
		t.Fatalf("IsInvalidPart(%v) = false", err)
	}
	t.Logf("wrong ETag: %v", err)
	if blob.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = true", err)
	}
	if err := c.AbortMultipartUpload(ctx, key, id); err != nil {
		t.Fatal(err)
	}
	if err := c.AbortMultipartUpload(ctx, key, id); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	if _, err := c.ListParts(ctx, key, id); !blob.IsNotFound(err) {
		t.Errorf("ListParts after abort: %v, want not found", err)
	}
	if _, err := c.Head(ctx, key); !blob.IsNotFound(err) {
		t.Errorf("Head after abort: %v, want not found", err)
	}
}

func TestCompleteSmallPart(t *testing.T) {
	c := newClient(t)
	key := "models/c/model.bin"
	id, parts := uploadParts(t, c, key, randomBytes(t, 1000), randomBytes(t, 1000))
	_, err := c.CompleteMultipartUpload(t.Context(), key, id, parts)
	if err == nil {
		t.Fatal("complete with a 1000-byte first part succeeded")
	}
	if !blob.IsInvalidPart(err) {
		t.Errorf("IsInvalidPart(%v) = false", err)
	}
	t.Logf("small first part: %v", err)
	if err := c.AbortMultipartUpload(t.Context(), key, id); err != nil {
		t.Fatal(err)
	}
}

func TestListParts(t *testing.T) {
	c := newClient(t)
	key := "models/d/model.bin"
	id, parts := uploadParts(t, c, key, randomBytes(t, 5*mib), randomBytes(t, 777))
	got, err := c.ListParts(t.Context(), key, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []blob.Part{{1, parts[0].ETag, 5 * mib}, {2, parts[1].ETag, 777}}
	if len(got) != len(want) {
		t.Fatalf("ListParts = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	uploads, err := c.ListMultipartUploads(t.Context(), key)
	if err != nil || len(uploads) != 1 || uploads[0].UploadID != id || uploads[0].Key != key {
		t.Errorf("ListMultipartUploads = %+v, %v; want the one upload %s", uploads, err, id)
	}
	if err := c.AbortMultipartUpload(t.Context(), key, id); err != nil {
		t.Fatal(err)
	}
}

func TestAbortUnknownUpload(t *testing.T) {
	c := newClient(t)
	if err := c.AbortMultipartUpload(t.Context(), "nothing/here", "no-such-upload"); err != nil {
		t.Fatalf("abort of an unknown upload: %v", err)
	}
}
