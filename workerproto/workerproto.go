// Package workerproto is the lease protocol between Easel and the
// `easel worker` processes beside a team's GPUs: the paths, the messages
// and their rules. Both sides import it; nothing else of either side.
//
// A worker authenticates every call with its worker key
// (Authorization: Bearer <key>), which belongs to one pool and can do
// nothing else. The worker only connects out: to Easel, and to the object
// store through the presigned URLs Easel hands it.
//
//  1. POST Hello once at start (and again after Easel forgot it): what the
//     worker has. Easel answers its id and the timings to keep.
//  2. POST Lease in a loop: a long poll that returns a Job (200) as soon as
//     one is queued for the pool (any Easel replica wakes it), or 204
//     after Wait. A job whose lease expired is leased again.
//  3. While it runs the job, POST Heartbeat every HeartbeatInterval: it
//     extends the lease to now + LeaseTTL and carries progress; Cancelled
//     in the answer means stop (A1111: POST /sdapi/v1/interrupt).
//  4. PUT the images to the job's upload URLs, then POST Complete; or POST
//     Fail (Transient: another worker may try; else the job fails).
//
// A call with a token that is no longer the job's (the lease expired and
// another worker took it, or the job ended) answers 409 Conflict: the
// worker drops the job. So every job ends exactly once.
package workerproto

import "time"

// Paths, relative to the Easel server's URL.
const (
	PathHello     = "/workers/v1/hello"
	PathLease     = "/workers/v1/lease"
	PathHeartbeat = "/workers/v1/heartbeat"
	PathComplete  = "/workers/v1/complete"
	PathFail      = "/workers/v1/fail"
	// PathUpload presigns uploads of a training's result and logs.
	PathUpload = "/workers/v1/upload"
)

// MaxWait is the longest a Lease call waits for a job.
const MaxWait = 25 * time.Second

// Model is a model file a worker has (Hello, Lease) or needs (Job).
type Model struct {
	// Type is the library's type: Stable-diffusion, Lora, VAE, ControlNet,
	// embeddings, hypernetworks.
	Type string `json:"type"`
	// Name is the file name, which the WebUI knows it by.
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size,omitempty"`
	// URL is a presigned GET of the file (in a Job only).
	URL string `json:"url,omitempty"`
}

// Hello is what a worker says about itself at start.
type Hello struct {
	Name         string  `json:"name"`
	GPU          string  `json:"gpu,omitempty"`
	GPUMemoryMiB int64   `json:"gpu_memory_mib,omitempty"`
	WebUI        string  `json:"webui,omitempty"` // the server's name and version, as it tells them
	Cached       []Model `json:"cached"`
	// Trainer says whether and how the worker trains LoRAs: TrainerNone,
	// TrainerSDScripts or TrainerSimulator.
	Trainer string `json:"trainer,omitempty"`
}

// Welcome answers Hello.
type Welcome struct {
	WorkerID string `json:"worker_id"`
	Pool     string `json:"pool"`
	// HeartbeatInterval is how often a worker running a job must beat.
	HeartbeatInterval Duration `json:"heartbeat_interval"`
	// LeaseTTL is how long a lease lasts past each heartbeat.
	LeaseTTL Duration `json:"lease_ttl"`
}

// LeaseRequest asks for a job. Cached and Loaded let Easel prefer jobs
// whose checkpoint this worker has (model affinity).
type LeaseRequest struct {
	WorkerID string   `json:"worker_id"`
	Wait     Duration `json:"wait"`
	Cached   []Model  `json:"cached"`
	// Loaded is the SHA-256 of the checkpoint the WebUI has loaded now.
	Loaded string `json:"loaded,omitempty"`
	// Trainer is as in Hello: only a worker that can train is offered
	// trainings.
	Trainer string `json:"trainer,omitempty"`
}

// Job is a leased inference, or a leased training (Kind KindTraining,
// described by Training; the inference fields are then empty).
type Job struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	// Kind is KindInference ("" from older servers) or KindTraining.
	Kind     string    `json:"kind,omitempty"`
	Training *Training `json:"training,omitempty"`
	// Task is txt2img or img2img.
	Task string `json:"task"`
	// Params are the A1111 request, already sanitised by Easel; the worker
	// sets override_settings for the models itself.
	Params map[string]any `json:"params"`
	// Models are every model of the job; Checkpoint and VAE name those the
	// worker must select (VAE may be "Automatic" or "None").
	Models     []Model `json:"models"`
	Checkpoint string  `json:"checkpoint"`
	VAE        string  `json:"vae,omitempty"`
	// Uploads are presigned PUT URLs for image 1, 2, ...: the worker puts
	// each image (PNG) to the next one.
	Uploads  []string `json:"uploads"`
	Deadline Time     `json:"deadline"`
}

// Heartbeat extends a lease and reports progress.
type Heartbeat struct {
	JobID    string  `json:"job_id"`
	Token    string  `json:"token"`
	Progress float64 `json:"progress"` // 0..1
	Step     int     `json:"step,omitempty"`
	Steps    int     `json:"steps,omitempty"`
	// Stage says what the worker is doing: downloading, switching, generating, uploading.
	Stage string `json:"stage,omitempty"`
	// Kind is the job's kind; Training its progress when a training.
	Kind     string            `json:"kind,omitempty"`
	Training *TrainingProgress `json:"training,omitempty"`
}

// HeartbeatReply answers Heartbeat.
type HeartbeatReply struct {
	Cancelled bool `json:"cancelled"`
	Deadline  Time `json:"deadline"`
}

// Complete reports a finished job.
type Complete struct {
	JobID string `json:"job_id"`
	Token string `json:"token"`
	// Images is how many images were put to Uploads (1..len(Uploads)).
	Images int `json:"images"`
	// Info is the WebUI's info JSON string (with infotexts).
	Info string `json:"info"`
	// ModelHash is the sd_model_hash the WebUI reported.
	ModelHash string `json:"model_hash"`
	// Downloaded: a model had to be fetched; Switched: the checkpoint
	// had to be loaded.
	Downloaded bool `json:"downloaded"`
	Switched   bool `json:"switched"`
	// Kind is the job's kind; Training what a training uploaded.
	Kind     string          `json:"kind,omitempty"`
	Training *TrainingResult `json:"training,omitempty"`
}

// Fail reports a job that could not be done.
type Fail struct {
	JobID     string `json:"job_id"`
	Token     string `json:"token"`
	Error     string `json:"error"`
	Transient bool   `json:"transient"`
	Kind      string `json:"kind,omitempty"`
}

// Duration is a time.Duration written as a string ("4s").
type Duration struct{ time.Duration }

// MarshalText writes d as Go writes durations.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// Time is a time.Time in RFC 3339.
type Time struct{ time.Time }
