package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxBody bounds a generation request (init images included).
const maxBody = 64 << 20

// genRequest holds the A1111 txt2img/img2img fields the simulator uses.
type genRequest struct {
	Prompt            string                     `json:"prompt"`
	NegativePrompt    string                     `json:"negative_prompt"`
	Seed              int64                      `json:"seed"`
	Width             int                        `json:"width"`
	Height            int                        `json:"height"`
	Steps             int                        `json:"steps"`
	CFGScale          float64                    `json:"cfg_scale"`
	SamplerName       string                     `json:"sampler_name"`
	BatchSize         int                        `json:"batch_size"`
	NIter             int                        `json:"n_iter"`
	InitImages        []string                   `json:"init_images"`
	DenoisingStrength float64                    `json:"denoising_strength"`
	SendImages        *bool                      `json:"send_images"`
	Overrides         map[string]json.RawMessage `json:"override_settings"`
	RestoreAfterwards *bool                      `json:"override_settings_restore_afterwards"`
}

// info is the object A1111 returns, JSON-encoded, in "info".
type info struct {
	Prompt             string   `json:"prompt"`
	AllPrompts         []string `json:"all_prompts"`
	NegativePrompt     string   `json:"negative_prompt"`
	AllNegativePrompts []string `json:"all_negative_prompts"`
	Seed               int64    `json:"seed"`
	AllSeeds           []int64  `json:"all_seeds"`
	Width              int      `json:"width"`
	Height             int      `json:"height"`
	SamplerName        string   `json:"sampler_name"`
	CFGScale           float64  `json:"cfg_scale"`
	Steps              int      `json:"steps"`
	BatchSize          int      `json:"batch_size"`
	SDModelName        string   `json:"sd_model_name"`
	SDModelHash        string   `json:"sd_model_hash"`
	SDVAEName          *string  `json:"sd_vae_name"`
	DenoisingStrength  *float64 `json:"denoising_strength,omitempty"`
	IndexOfFirstImage  int      `json:"index_of_first_image"`
	Infotexts          []string `json:"infotexts"`
	Version            string   `json:"version"`
	Simulator          bool     `json:"simulator"`
}

func (s *server) txt2img(w http.ResponseWriter, r *http.Request) { s.generate(w, r, false) }
func (s *server) img2img(w http.ResponseWriter, r *http.Request) { s.generate(w, r, true) }

// generate answers txt2img and img2img: it checks the request as A1111
// would (with the simulator's limits), takes the GPU, loads the selected
// checkpoint, samples for Delay and draws the images. An interrupted
// generation answers 200 with no images.
func (s *server) generate(w http.ResponseWriter, r *http.Request, img2img bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		httpException(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	req := genRequest{Seed: -1, Width: 512, Height: 512, Steps: 20, CFGScale: 7,
		SamplerName: "Euler a", BatchSize: 1, NIter: 1, DenoisingStrength: 0.75}
	var echo map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		unprocessable(w, "JSON decode error: "+err.Error())
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&echo); err != nil || echo == nil {
		unprocessable(w, "the body must be a JSON object")
		return
	}
	if msg := req.check(); msg != "" {
		badRequest(w, msg)
		return
	}
	if img2img && len(req.InitImages) == 0 {
		httpException(w, http.StatusNotFound, "Init image not found")
		return
	}
	var init image.Image
	var loras []*checkpoint
	for i, enc := range req.InitImages {
		img, err := decodeImage(enc)
		if err != nil {
			httpException(w, http.StatusInternalServerError, "Invalid encoded image")
			return
		}
		if i == 0 {
			init = img
		}
	}
	ckpt, vae, failure := s.selection(req.Overrides)
	if failure == nil {
		loras, failure = s.promptLoras(req.Prompt, req.NegativePrompt)
	}
	if failure != nil {
		failure(w)
		return
	}
	if !s.acquire(r.Context()) {
		return // the client went away while it waited, or the simulator is closing
	}
	defer s.release()
	name := "txt2img"
	if img2img {
		name = "img2img"
	}
	j := s.begin(name, req.Steps)
	defer s.end(j)
	s.load(j, ckpt)
	s.used(loras)
	if _, ok := req.Overrides["sd_model_checkpoint"]; ok && req.RestoreAfterwards != nil && !*req.RestoreAfterwards {
		s.mu.Lock()
		s.dflt = ckpt.name // the override stays, as the server's new default
		s.mu.Unlock()
	}
	done := s.sample(j)
	if s.fail() {
		exception(w, "RuntimeError", "simulated failure (--fail-rate)")
		return
	}
	if req.Seed < 0 {
		h := fnv.New64a()
		h.Write(body)
		req.Seed = int64(h.Sum64() & 0xffffffff)
	}
	in := info{Prompt: req.Prompt, NegativePrompt: req.NegativePrompt, Seed: req.Seed,
		Width: req.Width, Height: req.Height, SamplerName: req.SamplerName,
		CFGScale: req.CFGScale, Steps: req.Steps, BatchSize: req.BatchSize,
		SDModelName: ckpt.shortName(), SDModelHash: ckpt.hash10(), Version: ModelName, Simulator: true,
		AllPrompts: []string{}, AllNegativePrompts: []string{}, AllSeeds: []int64{}, Infotexts: []string{}}
	if vae != nil {
		n := vae.name
		in.SDVAEName = &n
	}
	if img2img {
		in.DenoisingStrength = &req.DenoisingStrength
	}
	images := []string{}
	n := req.BatchSize * req.NIter
	if !done {
		n = 0 // interrupted before any image was finished
	}
	label := ckpt.hash10() + " " + ckpt.shortName()
	for i := range n {
		seed := req.Seed + int64(i)
		if req.SendImages == nil || *req.SendImages {
			img := render(req.Width, req.Height, req.Prompt, seed, init, req.DenoisingStrength, label)
			enc, err := encodePNG(img)
			if err != nil {
				exception(w, "RuntimeError", err.Error())
				return
			}
			images = append(images, enc)
		}
		in.AllPrompts = append(in.AllPrompts, req.Prompt)
		in.AllNegativePrompts = append(in.AllNegativePrompts, req.NegativePrompt)
		in.AllSeeds = append(in.AllSeeds, seed)
		in.Infotexts = append(in.Infotexts, req.infotext(seed, img2img, ckpt, vae)+loraHashes(loras))
	}
	infoJSON, _ := json.Marshal(in)
	for k, v := range req.echo(img2img) {
		echo[k] = v
	}
	if _, ok := echo["seed"]; !ok {
		echo["seed"] = -1 // echoed as requested, like A1111
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"images":     images,
		"parameters": echo,
		"info":       string(infoJSON),
	})
}

// selection resolves override_settings to the checkpoint and VAE to use
// (VAE nil: automatic or none). An unknown option is A1111's KeyError; a
// checkpoint or VAE the simulator does not have is refused (A1111 would
// silently use its default). failure, when set, writes the refusal.
func (s *server) selection(o map[string]json.RawMessage) (ckpt, vae *checkpoint, failure func(http.ResponseWriter)) {
	for k := range o {
		if _, ok := optionDefaults[k]; !ok {
			return nil, nil, func(w http.ResponseWriter) { exception(w, "KeyError", "'"+k+"'") }
		}
	}
	var wantCkpt, wantVAE string
	_ = json.Unmarshal(o["sd_model_checkpoint"], &wantCkpt)
	_ = json.Unmarshal(o["sd_vae"], &wantVAE)
	s.mu.Lock()
	defer s.mu.Unlock()
	if wantCkpt == "" {
		wantCkpt = s.dflt
	}
	if ckpt = s.findLocked(s.models.checkpoints, wantCkpt); ckpt == nil {
		if wantCkpt == "" {
			return nil, nil, func(w http.ResponseWriter) {
				exception(w, "FileNotFoundError", "no checkpoint: the simulator's "+CheckpointDir+" folder is empty")
			}
		}
		return nil, nil, func(w http.ResponseWriter) { exception(w, "RuntimeError", "checkpoint not found: "+wantCkpt) }
	}
	switch wantVAE {
	case "", "Automatic", "None":
	default:
		if vae = s.findLocked(s.models.vaes, wantVAE); vae == nil {
			return nil, nil, func(w http.ResponseWriter) { exception(w, "RuntimeError", "VAE not found: "+wantVAE) }
		}
	}
	return ckpt, vae, nil
}

// check returns why the request is refused, or "".
func (q *genRequest) check() string {
	for _, d := range []struct {
		name string
		v    int
	}{{"width", q.Width}, {"height", q.Height}} {
		if d.v < 8 || d.v > MaxSide {
			return fmt.Sprintf("%s %d is outside the simulator's limit of 8..%d", d.name, d.v, MaxSide)
		}
	}
	if q.BatchSize < 1 || q.NIter < 1 {
		return "batch_size and n_iter must be at least 1"
	}
	if n := q.BatchSize * q.NIter; n > MaxImages {
		return fmt.Sprintf("batch_size*n_iter = %d exceeds the simulator's limit of %d images per request", n, MaxImages)
	}
	if q.Steps < 1 {
		return "steps must be at least 1"
	}
	if q.DenoisingStrength < 0 || q.DenoisingStrength > 1 {
		return "denoising_strength must be between 0 and 1"
	}
	return ""
}

// echo returns the typed fields to write back into "parameters"; like
// A1111, img2img does not echo its init images.
func (q *genRequest) echo(img2img bool) map[string]any {
	m := map[string]any{
		"prompt": q.Prompt, "negative_prompt": q.NegativePrompt,
		"width": q.Width, "height": q.Height, "steps": q.Steps,
		"cfg_scale": q.CFGScale, "sampler_name": q.SamplerName,
		"batch_size": q.BatchSize, "n_iter": q.NIter,
	}
	if img2img {
		m["init_images"] = nil
		m["denoising_strength"] = q.DenoisingStrength
	}
	return m
}

// infotext is A1111's generation-parameters text for one image.
func (q *genRequest) infotext(seed int64, img2img bool, ckpt, vae *checkpoint) string {
	var b strings.Builder
	b.WriteString(q.Prompt)
	if q.NegativePrompt != "" {
		b.WriteString("\nNegative prompt: " + q.NegativePrompt)
	}
	fmt.Fprintf(&b, "\nSteps: %d, Sampler: %s, CFG scale: %s, Seed: %d, Size: %dx%d, Model hash: %s, Model: %s",
		q.Steps, q.SamplerName, pyFloat(q.CFGScale), seed, q.Width, q.Height, ckpt.hash10(), ckpt.shortName())
	if vae != nil {
		fmt.Fprintf(&b, ", VAE hash: %s, VAE: %s", vae.hash10(), vae.name)
	}
	if img2img {
		b.WriteString(", Denoising strength: " + pyFloat(q.DenoisingStrength))
	}
	b.WriteString(", Simulator: not Stable Diffusion")
	return b.String()
}

// pyFloat formats like Python's str(float): 7 → "7.0".
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}
