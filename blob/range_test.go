package blob_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestReaderAt reads an object by ranges: within a block, across the
// 1 MiB block boundary, a read larger than a block, and past the end.
func TestReaderAt(t *testing.T) {
	c := newClient(t)
	ctx := t.Context()
	body := randomBytes(t, 3<<20+17)
	if err := c.Put(ctx, "ranges/model.bin", body, ""); err != nil {
		t.Fatal(err)
	}
	r := c.ReaderAt(ctx, "ranges/model.bin", int64(len(body)))
	for _, rg := range []struct{ off, n int }{{0, 8}, {8, 100}, {1<<20 - 4, 8}, {5, 2<<20 + 3}, {len(body) - 10, 10}} {
		buf := make([]byte, rg.n)
		if n, err := r.ReadAt(buf, int64(rg.off)); err != nil || n != rg.n || !bytes.Equal(buf, body[rg.off:rg.off+rg.n]) {
			t.Errorf("ReadAt(%d bytes at %d) = %d, %v; or the bytes differ", rg.n, rg.off, n, err)
		}
	}
	buf := make([]byte, 20)
	n, err := r.ReadAt(buf, int64(len(body)-10))
	if n != 10 || !errors.Is(err, io.EOF) || !bytes.Equal(buf[:10], body[len(body)-10:]) {
		t.Errorf("ReadAt past the end = %d, %v; want 10, EOF", n, err)
	}
}
