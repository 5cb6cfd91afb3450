// Package webui is the worker's Backend for AUTOMATIC1111's API, which
// Forge and SD.Next serve too.
package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"easel/worker"
	"easel/workerproto"
)

// Client talks to one WebUI, usually on localhost.
type Client struct {
	base       string
	user, pass string // --api-auth, from the URL's user info
	http       *http.Client
}

// New returns a client of the WebUI at rawURL (http://user:pass@host:port
// for a WebUI started with --api-auth); an error for a URL that is not
// http(s).
func New(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--webui %q is not an http(s) URL", rawURL)
	}
	c := &Client{http: &http.Client{}}
	if u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
		u.User = nil
	}
	c.base = strings.TrimRight(u.String(), "/")
	return c, nil
}

// folders are where A1111 looks for each type, relative to its models
// folder. Embeddings live beside it (<data_dir>/embeddings).
var folders = map[string]string{
	"Stable-diffusion": "Stable-diffusion",
	"Lora":             "Lora",
	"VAE":              "VAE",
	"ControlNet":       "ControlNet",
	"hypernetworks":    "hypernetworks",
	"embeddings":       "../embeddings",
}

// Folder returns the folder of a model type relative to the models folder.
func (c *Client) Folder(modelType string) (string, error) {
	if f, ok := folders[modelType]; ok {
		return f, nil
	}
	return "", fmt.Errorf("the WebUI has no folder for models of type %q", modelType)
}

// maxAnswer bounds what is read of an answer (base64 images).
const maxAnswer = 1 << 30

// call sends a request and decodes a 200 answer into out. Another status
// is an *httpError.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return &httpError{path: path, status: resp.StatusCode, body: text}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
		return fmt.Errorf("%s: reading the answer: %w", path, err)
	}
	return nil
}

// httpError is a WebUI answer with a failing status.
type httpError struct {
	path   string
	status int
	body   []byte
}

func (e *httpError) Error() string {
	reason, _ := JudgeError(e.status, e.body)
	return fmt.Sprintf("%s: %d %s", e.path, e.status, reason)
}

// Describe says which server this is and the GPU memory it sees.
func (c *Client) Describe(ctx context.Context) (worker.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d worker.Description
	var mem struct {
		CUDA struct {
			System struct {
				Total float64 `json:"total"`
			} `json:"system"`
		} `json:"cuda"`
	}
	// cuda is {"error": "unavailable"} without a GPU: total stays 0.
	if err := c.call(ctx, http.MethodGet, "/sdapi/v1/memory", nil, &mem); err == nil {
		d.GPUMemoryMiB = int64(mem.CUDA.System.Total) >> 20
	}
	var opts map[string]any
	if err := c.call(ctx, http.MethodGet, "/sdapi/v1/options", nil, &opts); err != nil {
		return d, err
	}
	d.Server = serverName(opts)
	return d, nil
}

// serverName guesses the server from its options: A1111 has no version
// route, and /sdapi/v1/cmd-flags (which would tell more) holds passwords.
func serverName(opts map[string]any) string {
	if opts["easel_simulator"] == true {
		return "easel-simulator (not Stable Diffusion)"
	}
	for k := range opts {
		if strings.HasPrefix(k, "forge_") {
			return "Stable Diffusion WebUI Forge"
		}
	}
	return "AUTOMATIC1111-compatible WebUI"
}

// Models lists the checkpoints the WebUI has hashed.
func (c *Client) Models(ctx context.Context) ([]workerproto.Model, error) {
	var list []struct {
		Title  string  `json:"title"`
		SHA256 *string `json:"sha256"`
	}
	if err := c.call(ctx, http.MethodGet, "/sdapi/v1/sd-models", nil, &list); err != nil {
		return nil, err
	}
	var out []workerproto.Model
	for _, m := range list {
		if m.SHA256 != nil && *m.SHA256 != "" {
			out = append(out, workerproto.Model{Type: "Stable-diffusion", Name: titleName(m.Title), SHA256: strings.ToLower(*m.SHA256)})
		}
	}
	return out, nil
}

// titleName drops the " [hash10]" A1111 appends to a title once hashed.
func titleName(title string) string {
	if i := strings.LastIndex(title, " ["); i >= 0 && strings.HasSuffix(title, "]") {
		return title[:i]
	}
	return title
}

// Loaded returns the checkpoint the WebUI has loaded.
func (c *Client) Loaded(ctx context.Context) (worker.Loaded, error) {
	var opts struct {
		Checkpoint string `json:"sd_model_checkpoint"`
		Hash       string `json:"sd_checkpoint_hash"`
	}
	if err := c.call(ctx, http.MethodGet, "/sdapi/v1/options", nil, &opts); err != nil {
		return worker.Loaded{}, err
	}
	return worker.Loaded{Name: titleName(opts.Checkpoint), SHA256: strings.ToLower(opts.Hash)}, nil
}

// refreshRoutes rescan each type. Embeddings are rescanned by A1111 at
// every generation; hypernetworks and ControlNet models have no route.
var refreshRoutes = map[string]string{
	"Stable-diffusion": "/sdapi/v1/refresh-checkpoints",
	"VAE":              "/sdapi/v1/refresh-vae",
	"Lora":             "/sdapi/v1/refresh-loras",
}

// Refresh has the WebUI rescan the folders of these types.
func (c *Client) Refresh(ctx context.Context, modelTypes []string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var errs []error
	for _, t := range modelTypes {
		if route, ok := refreshRoutes[t]; ok {
			errs = append(errs, c.call(ctx, http.MethodPost, route, struct{}{}, nil))
		}
	}
	return errors.Join(errs...)
}

// Progress reports the running generation (global to the WebUI).
func (c *Client) Progress(ctx context.Context) (worker.Progress, error) {
	var p struct {
		Progress float64 `json:"progress"`
		State    struct {
			Step  int `json:"sampling_step"`
			Steps int `json:"sampling_steps"`
		} `json:"state"`
	}
	if err := c.call(ctx, http.MethodGet, "/sdapi/v1/progress?skip_current_image=true", nil, &p); err != nil {
		return worker.Progress{}, err
	}
	return worker.Progress{Fraction: p.Progress, Step: p.State.Step, Steps: p.State.Steps}, nil
}

// Interrupt stops whatever the WebUI runs.
func (c *Client) Interrupt(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/sdapi/v1/interrupt", struct{}{}, nil)
}
