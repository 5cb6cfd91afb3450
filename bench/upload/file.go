package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// generate writes size ChaCha8 bytes to path and returns their SHA-256.
func generate(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	src, sum, buf := rand.NewChaCha8([32]byte{'e', 'a', 's', 'e', 'l'}), sha256.New(), make([]byte, 4<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(left, int64(len(buf)))]
		_, _ = src.Read(chunk)
		sum.Write(chunk)
		if _, err := f.Write(chunk); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(sum.Sum(nil)), f.Close()
}

// diskWrite copies the file to dst through a user-space buffer, as the
// gateway writes what it receives (no copy_file_range), with fsync.
func (b *bench) diskWrite(dst string) error {
	in, err := os.Open(b.src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer os.Remove(dst)
	_, err = io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 8<<20))
	err = errors.Join(err, out.Sync(), out.Close())
	b.done()
	return err
}

// warmUp touches n bytes of fresh memory and lets it go. On a VM that hands
// free memory back to its host (virtio-balloon free page reporting), the
// first touch of a page costs a fault on the host: without this, whichever
// phase comes first pays it for all of its page cache (2-4x slower here).
func warmUp(n int64) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

// parseSize reads 1GiB, 128MiB, 500MB, 4096...
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for i, suffix := range []string{"KiB", "MiB", "GiB", "KB", "MB", "GB"} {
		if v, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = strings.TrimSpace(v), []float64{1 << 10, 1 << 20, 1 << 30, 1e3, 1e6, 1e9}[i]
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want bytes, or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	return int64(n * mult), nil
}
