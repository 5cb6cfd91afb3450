package modelfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Caps on the pickle walk. The data.pkl of an SD checkpoint is a few
// hundred KiB with well under a million opcodes.
const (
	MaxPickleBytes = 64 << 20
	MaxOpcodes     = 1 << 24
	MaxGlobals     = 1024
	maxStack       = 1 << 18
	maxMemoStrings = 1 << 16
	// maxName is the longest string kept as a possible module or attribute
	// name; longer strings are skipped, not read.
	maxName = 256
)

// value is what the walk knows of a stack item: a short string, or nothing.
type value struct {
	s     string
	isStr bool
}

// pickleWalk follows one pickle's opcodes without executing them: it
// tracks the stack only as far as needed to name the globals that
// STACK_GLOBAL imports (strings pushed or fetched from the memo).
type pickleWalk struct {
	r     *bufio.Reader
	read  *countingReader
	stack []value
	marks []int
	memo  map[uint64]string
	// memoNext is the key MEMOIZE uses: the memo's length in Python.
	memoNext uint64
	ops      int
	globals  map[string]bool
}

// ScanPickle walks one pickle (up to its STOP) from r and returns the
// globals it imports. A malformed pickle or one past a cap is a
// *FormatError, with the globals found before it.
func ScanPickle(r io.Reader) ([]string, error) {
	found := map[string]bool{}
	err := newWalk(r, found).run()
	return sortedSet(found), err
}

func newWalk(r io.Reader, found map[string]bool) *pickleWalk {
	c := &countingReader{r: r, limit: MaxPickleBytes}
	return &pickleWalk{r: bufio.NewReader(c), read: c, memo: map[uint64]string{}, globals: found}
}

type countingReader struct {
	r        io.Reader
	n, limit int64
}

var errPickleTooLarge = errors.New("too large")

// errTooLarge is the walk's answer to a pickle past MaxPickleBytes.
var errTooLarge error = &FormatError{Reason: "the pickle is larger than " + strconv.Itoa(MaxPickleBytes) + " bytes"}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errPickleTooLarge
	}
	p = p[:min(int64(len(p)), c.limit-c.n)]
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// run walks to STOP.
func (w *pickleWalk) run() error {
	for {
		op, err := w.r.ReadByte()
		if err != nil {
			return w.eof(err)
		}
		if w.ops++; w.ops > MaxOpcodes {
			return bad("the pickle has more than %d opcodes", MaxOpcodes)
		}
		if op == '.' { // STOP
			return nil
		}
		if err := w.step(op); err != nil {
			return err
		}
		if len(w.stack) > maxStack {
			return bad("the pickle's stack grows past %d items", maxStack)
		}
	}
}

func (w *pickleWalk) eof(err error) error {
	if errors.Is(err, errPickleTooLarge) {
		return errTooLarge
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return bad("the pickle ends before its STOP opcode")
	}
	return err
}

func (w *pickleWalk) push(v value) { w.stack = append(w.stack, v) }

func (w *pickleWalk) floor() int {
	if len(w.marks) == 0 {
		return 0
	}
	return w.marks[len(w.marks)-1]
}

// pop removes n items above the innermost mark.
func (w *pickleWalk) pop(n int) ([]value, error) {
	if len(w.stack)-n < w.floor() {
		return nil, bad("the pickle's stack underflows")
	}
	out := w.stack[len(w.stack)-n:]
	w.stack = w.stack[:len(w.stack)-n]
	return out, nil
}

// popMark removes the items above the innermost mark and the mark.
func (w *pickleWalk) popMark() error {
	if len(w.marks) == 0 {
		return bad("the pickle pops a mark it never set")
	}
	w.stack = w.stack[:w.marks[len(w.marks)-1]]
	w.marks = w.marks[:len(w.marks)-1]
	return nil
}

// replace pops n items and pushes one unknown value: what building a
// list, tuple, object or call result does to the stack.
func (w *pickleWalk) replace(n int) error {
	if _, err := w.pop(n); err != nil {
		return err
	}
	w.push(value{})
	return nil
}

func (w *pickleWalk) addGlobal(module, name string) error {
	g := module + "." + name
	if !w.globals[g] && len(w.globals) >= MaxGlobals {
		return bad("the pickle imports more than %d globals", MaxGlobals)
	}
	w.globals[g] = true
	w.push(value{})
	return nil
}

// memoPut remembers the top of the stack under key.
func (w *pickleWalk) memoPut(key uint64) error {
	if len(w.stack) <= w.floor() {
		return bad("the pickle memoizes an empty stack")
	}
	top := w.stack[len(w.stack)-1]
	w.memoNext = max(w.memoNext, key+1)
	switch {
	case !top.isStr:
		delete(w.memo, key)
	case len(w.memo) < maxMemoStrings:
		w.memo[key] = top.s
	}
	return nil
}

func (w *pickleWalk) memoGet(key uint64) {
	s, ok := w.memo[key]
	w.push(value{s: s, isStr: ok})
}

func (w *pickleWalk) fixed(n int) ([]byte, error) {
	var buf [8]byte
	if _, err := io.ReadFull(w.r, buf[:n]); err != nil {
		return nil, w.eof(err)
	}
	return buf[:n], nil
}

func (w *pickleWalk) uint(n int) (uint64, error) {
	b, err := w.fixed(n)
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// counted reads a length of lenBytes bytes, then that many bytes: kept as
// a string value when short, skipped otherwise.
func (w *pickleWalk) counted(lenBytes int) (value, error) {
	n, err := w.uint(lenBytes)
	if err != nil {
		return value{}, err
	}
	if lenBytes == 4 && int32(n) < 0 {
		return value{}, bad("the pickle has a negative length")
	}
	if n > MaxPickleBytes {
		return value{}, bad("the pickle claims a %d-byte string, over the limit", n)
	}
	if n > maxName {
		if _, err := io.CopyN(io.Discard, w.r, int64(n)); err != nil {
			return value{}, w.eof(err)
		}
		return value{}, nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(w.r, buf); err != nil {
		return value{}, w.eof(err)
	}
	return value{s: string(buf), isStr: true}, nil
}

// line reads a protocol-0 argument up to its newline, keeping at most
// maxName bytes of it.
func (w *pickleWalk) line() (string, error) {
	var kept []byte
	for {
		chunk, err := w.r.ReadSlice('\n')
		if len(kept) <= maxName {
			kept = append(kept, chunk[:min(len(chunk), maxName+1-len(kept))]...)
		}
		switch {
		case err == nil:
			return strings.TrimSuffix(strings.TrimSuffix(string(kept), "\n"), "\r"), nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return "", w.eof(err)
		}
	}
}

func (w *pickleWalk) decimal() (uint64, error) {
	s, err := w.line()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, bad("the pickle has a bad memo key %q", clip(s))
	}
	return n, nil
}
