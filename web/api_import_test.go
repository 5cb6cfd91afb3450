package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"easel/internal/testenv"
)

// modelServer serves test downloads on loopback.
func modelServer(t *testing.T, payload []byte) *httptest.Server {
	t.Helper()
	var flakyCalls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Write(payload)
	})
	mux.HandleFunc("/moved/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/files/"+strings.TrimPrefix(r.URL.Path, "/moved/"), http.StatusFound)
	})
	mux.HandleFunc("/loop/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	mux.HandleFunc("/flaky/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		if flakyCalls.Add(1) == 1 {
			w.Write(payload[:len(payload)/2])
			panic(http.ErrAbortHandler) // the server stops mid-stream
		}
		w.Write(payload)
	})
	mux.HandleFunc("/endless/", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for i := 0; i < 1024; i++ { // 64 MiB without a Content-Length
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func importURL(t *testing.T, s *testenv.Server, typ, url string) {
	t.Helper()
	r := s.MustCall(t, 202, "POST", "/checkpoints", testenv.As("admin"), map[string]any{
		"checkpoint_type": typ, "urls": []string{url}, "params": map[string]any{"message": "imported", "creator": "admin"},
	})
	if r.Message(t) != "Checkpoint creation in progress, please check later" {
		t.Errorf("import answer %q", r.Message(t))
	}
}

// waitImported waits for the checkpoint named name to leave Initial.
func waitImported(t *testing.T, s *testenv.Server, name string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, "import of "+name, func() bool {
		for _, c := range checkpointsOf(t, s, testenv.As("admin"), "?per_page=100") {
			if c["name"].([]any)[0] == name && c["status"] != "Initial" {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

func TestImportByURL(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_ALLOW_PRIVATE_URLS", "1"), testenv.WithEnv("EASEL_MAX_MODEL_BYTES", strconv.Itoa(8<<20)))
	_, payload := randomChunks(t, 6<<20+123)
	sum := sha256.Sum256(payload)
	srv := modelServer(t, payload)

	importURL(t, s, "Lora", srv.URL+"/moved/redirected.safetensors")
	importURL(t, s, "Lora", srv.URL+"/files/missing.safetensors?x=1")
	importURL(t, s, "Lora", srv.URL+"/flaky/flaky.safetensors")
	importURL(t, s, "Lora", srv.URL+"/endless/endless.ckpt")
	importURL(t, s, "Lora", srv.URL+"/loop/loop.pt")

	for _, name := range []string{"redirected.safetensors", "flaky.safetensors"} {
		c := waitImported(t, s, name)
		if c["status"] != "Active" || c["sha256"] != hex.EncodeToString(sum[:]) || c["size"] != strconv.Itoa(len(payload)) {
			t.Errorf("%s: status %v sha256 %v size %v error %q", name, c["status"], c["sha256"], c["size"], c["error"])
			continue
		}
		key := strings.TrimPrefix(c["s3Location"].(string), "s3://"+s.App.Blob.Bucket+"/") + "/" + name
		body, err := s.App.Blob.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(body)
		body.Close()
		if !bytes.Equal(got, payload) {
			t.Errorf("%s: stored bytes differ", name)
		}
	}
	// missing.safetensors is served (the handler ignores the name), so use the 404 path explicitly.
	importURL(t, s, "VAE", srv.URL+"/nowhere/gone.safetensors")
	for name, want := range map[string]string{
		"gone.safetensors": "the server answered 404 Not Found",
		"endless.ckpt":     "larger than the limit of 8388608 bytes",
		"loop.pt":          "too many redirects",
	} {
		c := waitImported(t, s, name)
		if c["status"] != "Failed" || !strings.Contains(c["error"].(string), want) {
			t.Errorf("%s: status %v error %q, want Failed with %q", name, c["status"], c["error"], want)
		}
		if c["params"].(map[string]any)["message"] != "imported" {
			t.Errorf("%s: params.message = %v, want the user's message kept", name, c["params"])
		}
	}
	uploads, err := s.App.Blob.ListMultipartUploads(t.Context(), "")
	if err != nil || len(uploads) != 0 {
		t.Errorf("multipart uploads left behind: %v %v", uploads, err)
	}
}

func TestImportRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	srv := modelServer(t, []byte("weights"))
	// A literal loopback address is refused before anything is stored.
	r := s.MustCall(t, 400, "POST", "/checkpoints", testenv.As("admin"), map[string]any{
		"checkpoint_type": "Lora", "urls": []string{srv.URL + "/files/a.safetensors"}, "params": map[string]any{"creator": "admin"}})
	if !strings.Contains(r.Message(t), "loopback") {
		t.Errorf("message %q", r.Message(t))
	}
	// A name that resolves to loopback is refused when the job connects.
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	importURL(t, s, "Lora", local+"/files/b.safetensors")
	c := waitImported(t, s, "b.safetensors")
	if c["status"] != "Failed" || !strings.Contains(c["error"].(string), "the address of host localhost is a loopback address") {
		t.Errorf("status %v error %q, want Failed and not allowed", c["status"], c["error"])
	}
	if msg := c["error"].(string); strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "::1") {
		t.Errorf("error %q shows the address localhost resolved to", msg)
	}
}

// TestImportErrorHidesResolver checks the stored error of an unresolvable
// host names the host, not the DNS server Go's error names.
func TestImportErrorHidesResolver(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	importURL(t, s, "Lora", "http://easel-no-such-host.invalid/files/c.safetensors")
	c := waitImported(t, s, "c.safetensors")
	msg := c["error"].(string)
	if c["status"] != "Failed" || !strings.Contains(msg, "host easel-no-such-host.invalid could not be resolved") {
		t.Errorf("status %v error %q, want Failed and could not be resolved", c["status"], msg)
	}
	hidden := []string{"lookup", ":53"}
	if conf, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(conf), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
				hidden = append(hidden, f[1])
			}
		}
	}
	for _, h := range hidden {
		if strings.Contains(msg, h) {
			t.Errorf("error %q shows %q", msg, h)
		}
	}
}
