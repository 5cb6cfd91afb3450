// Package sim is Easel's AUTOMATIC1111 API simulator: a test and demo
// tool that answers the subset of the A1111 web UI API Easel uses
// (sd-models, options, txt2img, img2img, extra-single-image) with
// deterministic synthetic images. It is NOT Stable Diffusion, and says so
// everywhere it shows: the model title, an X-Easel-Simulator header on
// every answer, the info texts and a banner drawn on every image.
package sim

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Header is set to "1" on every answer of the simulator, so clients can
// tell synthetic images from real ones.
const Header = "X-Easel-Simulator"

// Model identity shown by sd-models, options and the info texts.
const (
	ModelName  = "easel-simulator"
	ModelTitle = "easel-simulator (not Stable Diffusion)"
	// ModelSHA256 is the sha256 of the string "easel-simulator"; it names
	// no real checkpoint.
	ModelSHA256 = "479967b4bd988f5341a416570db0937223bba474f9ff9559d6e3db449e92da3d"
	modelHash   = "479967b4bd"
)

// Limits beyond which generation requests are refused with 400.
const (
	MaxSide   = 2048 // width and height
	MaxImages = 16   // batch_size * n_iter
)

// Options tunes the simulator.
type Options struct {
	// Delay is slept by every generation request (txt2img, img2img,
	// extra-single-image) before answering, honouring cancellation.
	Delay time.Duration
	// FailRate is the probability (0..1) that a generation request
	// answers 500 {"error":"RuntimeError",...}.
	FailRate float64
	// Seed seeds the failure draws; 0 uses an automatically seeded source.
	Seed uint64
}

type server struct {
	opts Options
	mu   sync.Mutex
	rng  *rand.Rand // nil: use the global source
}

// Handler returns the simulator's HTTP handler.
func Handler(opts Options) http.Handler {
	s := &server{opts: opts}
	if opts.Seed != 0 {
		s.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdapi/v1/sd-models", s.models)
	mux.HandleFunc("GET /sdapi/v1/options", s.options)
	mux.HandleFunc("POST /sdapi/v1/txt2img", s.generation(s.txt2img))
	mux.HandleFunc("POST /sdapi/v1/img2img", s.generation(s.img2img))
	mux.HandleFunc("POST /sdapi/v1/extra-single-image", s.generation(s.extraSingle))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(Header, "1")
		w.Header().Set("Server", "easel-simulator")
		mux.ServeHTTP(w, r)
	})
}

func (s *server) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []map[string]any{{
		"title":      ModelTitle,
		"model_name": ModelName,
		"hash":       modelHash,
		"sha256":     ModelSHA256,
		"filename":   "(easel simulator: no checkpoint file)",
		"config":     nil,
	}})
}

func (s *server) options(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"sd_model_checkpoint":      ModelTitle,
		"sd_checkpoint_hash":       ModelSHA256,
		"samples_format":           "png",
		"CLIP_stop_at_last_layers": 1,
		"easel_simulator":          true,
	})
}

// maxBody bounds a generation request (init images included).
const maxBody = 64 << 20

// generation wraps a generation endpoint: it reads the body (so that a
// client that goes away cancels the request), sleeps the delay and
// draws the simulated failures.
func (s *server) generation(h func(http.ResponseWriter, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "HTTPException", Detail: err.Error()})
			return
		}
		if s.opts.Delay > 0 {
			t := time.NewTimer(s.opts.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the client is gone
			}
		}
		if s.fail() {
			writeJSON(w, http.StatusInternalServerError, apiError{
				Error: "RuntimeError", Detail: "simulated failure (--fail-rate)"})
			return
		}
		h(w, body)
	}
}

func (s *server) fail() bool {
	switch p := s.opts.FailRate; {
	case p <= 0:
		return false
	case p >= 1:
		return true
	case s.rng == nil:
		return rand.Float64() < p
	default:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rng.Float64() < p
	}
}

// apiError is A1111's error body for HTTP exceptions.
type apiError struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

func badRequest(w http.ResponseWriter, detail string) {
	writeJSON(w, http.StatusBadRequest, apiError{Error: "HTTPException", Detail: detail})
}

// unprocessable answers 422 in FastAPI's request-validation shape.
func unprocessable(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"detail": []map[string]any{{
			"loc":  []string{"body"},
			"msg":  msg,
			"type": "value_error.jsondecode",
		}},
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
