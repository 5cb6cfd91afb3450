package worker

import (
	"context"
	"errors"

	"easel/workerproto"
)

// Backend is the inference server beside the worker: an AUTOMATIC1111
// compatible WebUI today (package worker/webui), maybe ComfyUI later. The
// protocol code knows the server only through it.
type Backend interface {
	// Describe says what the server is and the GPU memory it sees.
	Describe(ctx context.Context) (Description, error)
	// Models lists the models the server knows with their SHA-256 (those
	// it has not hashed yet are left out).
	Models(ctx context.Context) ([]workerproto.Model, error)
	// Loaded returns the checkpoint the server has loaded now.
	Loaded(ctx context.Context) (Loaded, error)
	// Folder returns where the server looks for models of a library type,
	// relative to the models folder; an error for a type it cannot use.
	Folder(modelType string) (string, error)
	// Refresh makes the server rescan its folders for these types.
	Refresh(ctx context.Context, modelTypes []string) error
	// Run generates. An error wrapping ErrRejected means the request
	// itself is at fault; any other error is the server's.
	Run(ctx context.Context, req RunRequest) (Result, error)
	// Progress reports the running generation.
	Progress(ctx context.Context) (Progress, error)
	// Interrupt stops the running generation.
	Interrupt(ctx context.Context) error
}

// ErrRejected marks a Backend.Run error caused by the request (a bad
// image, an unknown option): retrying it on another worker cannot help.
var ErrRejected = errors.New("the WebUI refused the request")

// Description is what a Backend tells about itself.
type Description struct {
	// Server is its name and version as far as it tells them.
	Server       string
	GPUMemoryMiB int64
}

// Loaded names the loaded checkpoint; SHA256 is empty when the server
// has not hashed it.
type Loaded struct {
	Name   string
	SHA256 string
}

// RunRequest is one generation.
type RunRequest struct {
	Task   string // txt2img or img2img
	Params map[string]any
	// Checkpoint and VAE are file names to select ("Automatic" or "None"
	// for VAE, or empty to leave it).
	Checkpoint string
	VAE        string
}

// Result is a generation's answer.
type Result struct {
	// Images are the generated images as the server encoded them (PNG,
	// JPEG or WebP), grids left out.
	Images [][]byte
	// Info is the server's info JSON, passed on to Easel.
	Info string
	// ModelName and ModelHash are the checkpoint the server says it used:
	// the file name without extension and the first 10 hex digits of its
	// SHA-256 (empty when it did not hash it).
	ModelName string
	ModelHash string
}

// Progress is the running generation's state.
type Progress struct {
	Fraction float64 // 0..1
	Step     int
	Steps    int
}
