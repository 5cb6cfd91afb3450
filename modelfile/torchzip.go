package modelfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path"
	"slices"
)

// Caps on a torch zip archive.
const (
	MaxZipEntries   = 1 << 16
	MaxZipDirectory = 16 << 20
	// maxPickleEntries bounds how many .pkl entries are walked.
	maxPickleEntries = 16
	// maxBarePickles bounds the pickles of a legacy (pre-zip) torch file:
	// it holds five, then raw storage bytes.
	maxBarePickles = 8
)

// Scan is what a pickle scan found.
type Scan struct {
	// Globals are every module.name imported, sorted.
	Globals []string
	// Unsafe are the Globals outside the allow-list.
	Unsafe []string
}

// ScanTorch scans the torch.save file (a zip archive with data.pkl, or a
// legacy sequence of bare pickles) of size bytes behind r. A malformed
// file or one past a cap is a *FormatError, with what was found before.
func ScanTorch(r io.ReaderAt, size int64) (Scan, error) {
	var magic [4]byte
	if size < 4 {
		return Scan{}, bad("the file is %d bytes long, too short for a pickle", size)
	}
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return Scan{}, err
	}
	found := map[string]bool{}
	var err error
	if string(magic[:]) == "PK\x03\x04" {
		err = scanZip(r, size, found)
	} else {
		err = scanBare(io.NewSectionReader(r, 0, size), found)
	}
	s := Scan{Globals: sortedSet(found)}
	for _, g := range s.Globals {
		if !IsSafeGlobal(g) {
			s.Unsafe = append(s.Unsafe, g)
		}
	}
	return s, err
}

// scanBare walks consecutive pickles; after the first, one that does not
// parse is taken for the raw data that follows them.
func scanBare(r io.Reader, found map[string]bool) error {
	br := &countingReader{r: r, limit: MaxPickleBytes}
	for i := range maxBarePickles {
		w := newWalk(br, found)
		err := w.run()
		// The walk buffers ahead: continue where its opcodes ended.
		rest := w.r.Buffered()
		if err != nil {
			if i > 0 && !errors.Is(err, errTooLarge) {
				return nil
			}
			return err
		}
		buffered, _ := w.r.Peek(rest)
		br = &countingReader{r: io.MultiReader(bytes.NewReader(slices.Clone(buffered)), br), limit: MaxPickleBytes - br.n}
	}
	return nil
}

// scanZip walks every .pkl entry of a torch zip archive.
func scanZip(r io.ReaderAt, size int64, found map[string]bool) error {
	if err := checkZipDirectory(r, size); err != nil {
		return err
	}
	z, err := zip.NewReader(r, size)
	if err != nil {
		return bad("the file is not a valid zip archive: %v", err)
	}
	walked := 0
	for _, f := range z.File {
		if path.Ext(f.Name) != ".pkl" {
			continue
		}
		if walked++; walked > maxPickleEntries {
			return bad("the archive has more than %d pickles", maxPickleEntries)
		}
		if f.UncompressedSize64 > MaxPickleBytes {
			return bad("%s is %d bytes, over the limit of %d", clip(f.Name), f.UncompressedSize64, MaxPickleBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return bad("%s cannot be read: %v", clip(f.Name), err)
		}
		// The declared size bounds the inflated bytes: no decompression bomb.
		err = newWalk(io.LimitReader(rc, int64(f.UncompressedSize64)), found).run()
		rc.Close()
		if err != nil {
			return bad("%s: %v", clip(f.Name), err)
		}
	}
	if walked == 0 {
		return bad("the archive has no data.pkl")
	}
	return nil
}

// checkZipDirectory refuses an archive whose central directory claims
// more entries or bytes than the caps, before archive/zip reads it.
func checkZipDirectory(r io.ReaderAt, size int64) error {
	tail := min(size, 22+65535)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil {
		return err
	}
	at := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if at < 0 || len(buf)-at < 22 {
		return bad("the zip archive has no end of central directory")
	}
	eocd := buf[at:]
	entries := uint64(binary.LittleEndian.Uint16(eocd[10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(eocd[12:]))
	if entries == 0xFFFF || dirSize == 0xFFFFFFFF {
		// Zip64: the locator before the record gives the zip64 record.
		end := size - tail + int64(at)
		if end < 20 {
			return bad("the zip64 archive has no locator")
		}
		var loc [20]byte
		if _, err := r.ReadAt(loc[:], end-20); err != nil {
			return err
		}
		off := binary.LittleEndian.Uint64(loc[8:])
		var rec [56]byte
		if string(loc[:4]) != "PK\x06\x07" || size < 56 || off > uint64(size-56) {
			return bad("the zip64 archive has a bad locator")
		}
		if _, err := r.ReadAt(rec[:], int64(off)); err != nil {
			return err
		}
		entries, dirSize = binary.LittleEndian.Uint64(rec[32:]), binary.LittleEndian.Uint64(rec[40:])
	}
	if entries > MaxZipEntries || dirSize > MaxZipDirectory {
		return bad("the archive lists %d entries in %d bytes, over the limits of %d and %d", entries, dirSize, MaxZipEntries, MaxZipDirectory)
	}
	return nil
}
