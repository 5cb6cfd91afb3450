package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"easel/worker"
	"easel/worker/webui"
	"easel/workerproto"
)

// fakeStore stands for the object store behind presigned URLs: GET
// /models/NAME serves a model file, PUT /uploads/KEY keeps an image.
type fakeStore struct {
	srv *httptest.Server

	mu      sync.Mutex
	files   map[string][]byte
	corrupt map[string]int // the next GETs of NAME that answer wrong bytes
	gets    map[string]int
	puts    map[string]*http.Request // with the body read into putBody
	putBody map[string][]byte
	auth    []string // Authorization headers seen (there must be none)
	// beforeGet runs before a GET is answered.
	beforeGet func(name string)
}

func newFakeStore(t *testing.T) *fakeStore {
	s := &fakeStore{files: map[string][]byte{}, corrupt: map[string]int{}, gets: map[string]int{},
		puts: map[string]*http.Request{}, putBody: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fakeStore) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if a := r.Header.Get("Authorization"); a != "" {
		s.auth = append(s.auth, a)
	}
	before := s.beforeGet
	s.mu.Unlock()
	switch name, ok := strings.CutPrefix(r.URL.Path, "/models/"); {
	case r.Method == http.MethodGet && ok:
		if before != nil {
			before(name)
		}
		s.mu.Lock()
		body, found := s.files[name]
		s.gets[name]++
		bad := s.corrupt[name]
		if bad > 0 {
			s.corrupt[name]--
		}
		s.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		switch {
		case bad%2 == 1: // same size, other bytes
			body = []byte(strings.Repeat("x", len(body)))
		case bad > 0: // cut short
			body = body[:len(body)/2]
		}
		w.Write(body)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/uploads/"):
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.puts[r.URL.Path] = r
		s.putBody[r.URL.Path] = body
		s.mu.Unlock()
	default:
		http.Error(w, "no", http.StatusBadRequest)
	}
}

// model serves content as a model file and returns it as a Job names it.
func (s *fakeStore) model(typ, name, content string) workerproto.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = []byte(content)
	return workerproto.Model{Type: typ, Name: name, SHA256: sha(content), Size: int64(len(content)),
		URL: s.srv.URL + "/models/" + name}
}

func (s *fakeStore) uploads(job string, n int) []string {
	var urls []string
	for i := range n {
		urls = append(urls, s.srv.URL+"/uploads/"+job+"/"+string(rune('1'+i))+".png?X-Amz-Signature=abc")
	}
	return urls
}

func (s *fakeStore) getCount(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[name]
}

func sha(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

// run is a worker running against a fake Easel in the background.
type run struct {
	easel  *fakeEasel
	store  *fakeStore
	dir    string
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns
	err    error         // what Run returned
}

// startWorker runs a worker whose WebUI is at webuiURL, with models in dir.
func startWorker(t *testing.T, webuiURL, dir string, easel *fakeEasel, store *fakeStore, tune func(*worker.Config)) *run {
	t.Helper()
	backend, err := webui.New(webuiURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.Config{Server: easel.srv.URL, Key: testKey, Name: "test-worker", ModelsDir: dir,
		CacheSize: 1 << 30, Backend: backend,
		Log:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		GPU:       func(context.Context) (string, int64) { return "Test GPU", 24576 },
		RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond, InterruptWait: 10 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{easel: easel, store: store, dir: dir, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = w.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop cancels the worker and returns Run's error.
func (r *run) stop() error {
	r.cancel()
	return r.wait()
}

// wait returns Run's error once it returns.
func (r *run) wait() error {
	<-r.done
	return r.err
}

// testWriter sends the worker's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// waitFor polls cond until it holds; the bound only keeps a broken test
// from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitEnd waits for the job's Complete or Fail.
func waitEnd(t *testing.T, e *fakeEasel, id string) (*workerproto.Complete, *workerproto.Fail) {
	t.Helper()
	var c *workerproto.Complete
	var f *workerproto.Fail
	waitFor(t, "the end of job "+id, func() bool {
		var ok bool
		c, f, ok = e.ended(id)
		return ok
	})
	return c, f
}

func mustComplete(t *testing.T, e *fakeEasel, id string) *workerproto.Complete {
	t.Helper()
	c, f := waitEnd(t, e, id)
	if f != nil {
		t.Fatalf("job %s failed (%q, transient %v), want it complete", id, f.Error, f.Transient)
	}
	return c
}

func mustFail(t *testing.T, e *fakeEasel, id string) *workerproto.Fail {
	t.Helper()
	c, f := waitEnd(t, e, id)
	if c != nil {
		t.Fatalf("job %s completed, want it failed", id)
	}
	return f
}

// partFiles lists leftover downloads under dir.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Dir(dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".easel-part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// modelsDir returns a fresh WebUI models folder (<data_dir>/models).
func modelsDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "models")
	for _, sub := range []string{"Stable-diffusion", "Lora", "VAE"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
