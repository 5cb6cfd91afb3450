package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"easel/blob"
)

// assertNoUploads fails the test if a multipart upload is open under key.
func assertNoUploads(t *testing.T, c *blob.Client, key string) {
	t.Helper()
	uploads, err := c.ListMultipartUploads(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads) != 0 {
		t.Errorf("open uploads under %s: %+v", key, uploads)
	}
}

func TestUploadStreaming(t *testing.T) {
	c := newClient(t)
	data := randomBytes(t, 12*mib+4321)
	var progress []int64
	res, err := c.Upload(t.Context(), "stream/model.bin", bytes.NewReader(data), 5*mib,
		func(done int64) { progress = append(progress, done) })
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.Size != int64(len(data)) || res.SHA256 != hex.EncodeToString(sum[:]) || res.ETag == "" {
		t.Errorf("Upload = %+v, want size %d sha256 %x", res, len(data), sum)
	}
	if want := []int64{5 * mib, 10 * mib, int64(len(data))}; !slices.Equal(progress, want) {
		t.Errorf("progress = %v, want %v", progress, want)
	}
	if got := getAll(t, c, "stream/model.bin"); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, differ from the %d uploaded", len(got), len(data))
	}
	assertNoUploads(t, c, "stream/")
}

func TestUploadSmallAndEmpty(t *testing.T) {
	c := newClient(t)
	for _, size := range []int{0, 1, 5 * mib} {
		data := randomBytes(t, size)
		res, err := c.Upload(t.Context(), "small/obj", bytes.NewReader(data), 5*mib, nil)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		sum := sha256.Sum256(data)
		if res.Size != int64(size) || res.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("size %d: Upload = %+v", size, res)
		}
		if got := getAll(t, c, "small/obj"); !bytes.Equal(got, data) {
			t.Errorf("size %d: downloaded %d bytes, differ", size, len(got))
		}
	}
	assertNoUploads(t, c, "small/")
}

// failingReader yields n random bytes, then fails.
type failingReader struct{ n int }

var errBroken = errors.New("connection reset by peer")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errBroken
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestUploadReaderFails(t *testing.T) {
	c := newClient(t)
	key := "broken/model.bin"
	_, err := c.Upload(t.Context(), key, &failingReader{n: 12 * mib}, 5*mib, nil)
	if !errors.Is(err, errBroken) {
		t.Fatalf("Upload = %v, want the reader's error", err)
	}
	assertNoUploads(t, c, key)
	if _, err := c.Head(t.Context(), key); !blob.IsNotFound(err) {
		t.Errorf("Head after failed upload: %v, want not found", err)
	}
}

func TestUploadCancelled(t *testing.T) {
	c := newClient(t)
	key := "cancel/model.bin"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := c.Upload(ctx, key, bytes.NewReader(randomBytes(t, 16*mib)), 5*mib,
		func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Upload = %v, want context.Canceled", err)
	}
	assertNoUploads(t, c, key)
	if _, err := c.Head(t.Context(), key); !blob.IsNotFound(err) {
		t.Errorf("Head after cancelled upload: %v, want not found", err)
	}
}

func TestUploadBoundedMemory(t *testing.T) {
	c := newClient(t)
	const size = 40 * mib
	src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := c.Upload(t.Context(), "big/model.bin", src, 5*mib, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != size {
		t.Fatalf("size %d, want %d", res.Size, size)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB to upload %d MiB", alloc/mib, size/mib)
	if alloc > 20*mib { // two 5 MiB part buffers plus the SDK's overhead
		t.Errorf("allocated %d MiB to upload %d MiB with 5 MiB parts", alloc/mib, size/mib)
	}
}
