package workerproto

// Trainings (kohya LoRA jobs) travel the same way as inferences: a worker
// that says it can train (Hello.Trainer, LeaseRequest.Trainer) may be
// leased one; it beats with TrainingProgress, asks Upload for presigned
// PUTs of its result and logs, and ends with Complete or Fail, all with
// Kind KindTraining. A worker that cannot train is never offered one.

// Kinds of job.
const (
	KindInference = "inference"
	KindTraining  = "training"
)

// What a worker trains with (Hello.Trainer).
const (
	TrainerNone = ""
	// TrainerSDScripts runs kohya sd-scripts (accelerate launch).
	TrainerSDScripts = "sd-scripts"
	// TrainerSimulator is `easel worker --sd-scripts sim`: it walks the
	// statuses and writes a small synthetic LoRA. It trains nothing.
	TrainerSimulator = "simulator"
)

// Training statuses a worker reports (TrainingProgress.Status).
const (
	TrainingDownloading = "Downloading"
	TrainingTraining    = "Training"
	TrainingUploading   = "Uploading"
)

// Training is a leased kohya LoRA training.
type Training struct {
	// FMType is sd_1_5 (train_network.py) or sd_xl (sdxl_train_network.py).
	FMType string `json:"fm_type"`
	// OutputName names the result: <OutputName>.safetensors.
	OutputName string `json:"output_name"`
	// Model is the base checkpoint, fetched like an inference's models.
	Model Model `json:"model"`
	// Config is a presigned GET of the merged kohya TOML (ConfigName).
	Config     string `json:"config"`
	ConfigName string `json:"config_name"`
	// Dataset names the dataset; Prefix is its concept folder
	// (<repeats>_<concept>), "" when the files lie at its top.
	Dataset string        `json:"dataset"`
	Prefix  string        `json:"prefix"`
	Files   []DatasetFile `json:"files"`
	// MaxTrainEpochs and SaveEveryNEpochs are config_params' values.
	MaxTrainEpochs   int `json:"max_train_epochs"`
	SaveEveryNEpochs int `json:"save_every_n_epochs"`
	// WD14 asks for auto-captioning before training (nil: none).
	WD14 *WD14 `json:"wd14,omitempty"`
	// Upload is a presigned PUT for <OutputName>.safetensors; Upload
	// (the call) gives more (per-epoch files, logs).
	Upload   string `json:"upload"`
	Deadline Time   `json:"deadline"`
}

// DatasetFile is one file of a training's dataset.
type DatasetFile struct {
	// Path is relative to the dataset folder, '/'-separated, with the
	// prefix folder: "10_technic/1.png".
	Path   string `json:"path"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"` // "" when not known yet
	URL    string `json:"url"`
}

// WD14 are the tagger's settings (strings, as clients send them).
type WD14 struct {
	GeneralThreshold   string `json:"general_threshold,omitempty"`
	CharacterThreshold string `json:"character_threshold,omitempty"`
}

// TrainingProgress is what a training heartbeat reports.
type TrainingProgress struct {
	// Status is TrainingDownloading, TrainingTraining or TrainingUploading.
	Status string  `json:"status"`
	Epoch  int     `json:"epoch,omitempty"`
	Epochs int     `json:"epochs,omitempty"`
	Step   int     `json:"step,omitempty"`
	Steps  int     `json:"steps,omitempty"`
	Loss   float64 `json:"loss,omitempty"`
}

// TrainingResult is what a finished training uploaded: file names
// relative to the output folder and to the logs folder.
type TrainingResult struct {
	Models []string `json:"models"`
	Logs   []string `json:"logs"`
}

// UploadRequest asks for presigned PUTs for a leased training's files:
// Models are file names (<output_name>[-NNNNNN].safetensors), Logs are
// '/'-separated paths relative to the logs folder.
type UploadRequest struct {
	JobID  string   `json:"job_id"`
	Token  string   `json:"token"`
	Models []string `json:"models"`
	Logs   []string `json:"logs"`
}

// UploadReply maps each requested name to its presigned PUT.
type UploadReply struct {
	Models map[string]string `json:"models"`
	Logs   map[string]string `json:"logs"`
}

// MaxUploadFiles bounds the files one UploadRequest may name.
const MaxUploadFiles = 200
