// Package sim is Easel's AUTOMATIC1111 API simulator: a test and demo
// tool that answers the part of the A1111 web UI API Easel and its
// workers use (models, options, txt2img, img2img, extra-single-image,
// progress, interrupt, memory, cmd-flags) with deterministic synthetic
// images. It is NOT Stable Diffusion, and says so everywhere it shows: the
// model title, an X-Easel-Simulator header on every answer, the info
// texts and a banner drawn on every image.
//
// Like A1111 it runs one generation at a time, and a generation goes on
// when its client goes away: only POST /sdapi/v1/interrupt stops it.
// Unlike A1111 it refuses a checkpoint it does not have, so that tests
// catch a wrong selection.
package sim

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Header is set to "1" on every answer of the simulator, so clients can
// tell synthetic images from real ones.
const Header = "X-Easel-Simulator"

// StatsPath answers the simulator's counters (Stats) as JSON; it is not
// part of the A1111 API.
const StatsPath = "/easel-sim/stats"

// The built-in model, served when no models folder is given.
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
	// Delay is what one generation takes (txt2img, img2img: spread over
	// its steps; extra-single-image: at once).
	Delay time.Duration
	// FailRate is the probability (0..1) that a generation request
	// answers 500 {"error":"RuntimeError",...}.
	FailRate float64
	// Seed seeds the failure draws; 0 uses an automatically seeded source.
	Seed uint64
	// ModelsDir holds the models the simulator serves, laid out like
	// A1111's models folder: Stable-diffusion/, Lora/, VAE/. Empty: the
	// built-in model "easel-simulator" only.
	ModelsDir string
	// SwitchDelay is what loading another checkpoint takes.
	SwitchDelay time.Duration
}

// Stats are the simulator's counters, at StatsPath.
type Stats struct {
	Generations int `json:"generations"` // txt2img and img2img run (interrupted ones too)
	Switches    int `json:"switches"`    // checkpoint loads after the first
	Interrupts  int `json:"interrupts"`  // POST /sdapi/v1/interrupt calls
	// Loaded is the name of the checkpoint loaded now.
	Loaded string `json:"loaded"`
	// Loras counts the generations that applied each LoRA (by file name).
	Loras map[string]int `json:"loras,omitempty"`
}

type server struct {
	opts Options
	rng  *rand.Rand // nil: use the global source
	gpu  chan struct{}
	done chan struct{} // closed by close: generations end as interrupted

	scanMu sync.Mutex
	hashes map[string]fileHash // by absolute path; guarded by scanMu

	mu      sync.Mutex
	models  catalogue
	loaded  *checkpoint // the checkpoint "in GPU memory"
	dflt    string      // the options' sd_model_checkpoint (a name)
	running *job
	stats   Stats
}

// Handler returns the simulator's HTTP handler. A models folder it cannot
// read serves no models; Serve checks the folder first.
func Handler(opts Options) http.Handler {
	h, _ := newServer(opts)
	return h
}

func newServer(opts Options) (http.Handler, *server) {
	s := &server{opts: opts, gpu: make(chan struct{}, 1), done: make(chan struct{}),
		hashes: map[string]fileHash{}}
	if opts.Seed != 0 {
		s.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	}
	_ = s.rescan()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdapi/v1/sd-models", s.sdModels)
	mux.HandleFunc("GET /sdapi/v1/sd-vae", s.sdVAE)
	mux.HandleFunc("GET /sdapi/v1/loras", s.loras)
	mux.HandleFunc("POST /sdapi/v1/refresh-checkpoints", s.refresh)
	mux.HandleFunc("POST /sdapi/v1/refresh-vae", s.refresh)
	mux.HandleFunc("POST /sdapi/v1/refresh-loras", s.refresh)
	mux.HandleFunc("GET /sdapi/v1/options", s.options)
	mux.HandleFunc("GET /sdapi/v1/cmd-flags", s.cmdFlags)
	mux.HandleFunc("GET /sdapi/v1/progress", s.progress)
	mux.HandleFunc("POST /sdapi/v1/interrupt", s.interrupt)
	mux.HandleFunc("GET /sdapi/v1/memory", s.memory)
	mux.HandleFunc("GET "+StatsPath, s.statsAnswer)
	mux.HandleFunc("POST /sdapi/v1/txt2img", s.txt2img)
	mux.HandleFunc("POST /sdapi/v1/img2img", s.img2img)
	mux.HandleFunc("POST /sdapi/v1/extra-single-image", s.extraSingle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(Header, "1")
		w.Header().Set("Server", "easel-simulator")
		mux.ServeHTTP(w, r)
	}), s
}

// close ends every generation (as interrupted) and every wait for the GPU.
func (s *server) close() { close(s.done) }

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

func (s *server) statsAnswer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.stats
	st.Loras = maps.Clone(s.stats.Loras)
	if s.loaded != nil {
		st.Loaded = s.loaded.name
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// apiError is A1111's error body (its API middleware's shape).
type apiError struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
	Body   string `json:"body"`
	Errors string `json:"errors"`
}

// httpException answers what A1111 answers for an HTTPException: its
// status, the text in detail, and str(e) ("404: ...") in errors.
func httpException(w http.ResponseWriter, code int, detail string) {
	writeJSON(w, code, apiError{Error: "HTTPException", Detail: detail,
		Errors: strconv.Itoa(code) + ": " + detail})
}

// exception answers what A1111 answers for any other Python exception:
// 500, the exception's type in error and its text in errors.
func exception(w http.ResponseWriter, typ, text string) {
	writeJSON(w, http.StatusInternalServerError, apiError{Error: typ, Errors: text})
}

func badRequest(w http.ResponseWriter, detail string) {
	httpException(w, http.StatusBadRequest, detail)
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
