package views

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"easel/store"
	"easel/workerproto"
)

// TrainingsPage is GET /trainings: the list and the create form.
type TrainingsPage struct {
	Base
	Rows      []store.Training
	CanCreate bool
	Form      TrainingForm
}

// TrainingForm is the create form: the choices offered, the values
// entered and their errors.
type TrainingForm struct {
	Models, Datasets, InstanceTypes []string
	DefaultType                     string
	// Values are the entered fields by name (TrainingFields, model,
	// dataset, fm_type, instance_type); Tagger is enable_wd14_tagger.
	Values map[string]string
	Tagger bool
	// Advanced is the edited TOML, which overrides the fields.
	Advanced string
	Errors   FormErrors
}

// TrainingField is one kohya setting of the create form.
type TrainingField struct {
	Name, Label, Default, Hint string
}

// TrainingFields are the essential kohya settings the form offers.
var TrainingFields = []TrainingField{
	{"max_train_epochs", "Epochs", "10", "how many passes over the data set"},
	{"save_every_n_epochs", "Save every N epochs", "1", "each save is a LoRA file"},
	{"network_dim", "Network dim", "32", "rank of the LoRA"},
	{"network_alpha", "Network alpha", "16", ""},
	{"unet_lr", "UNet learning rate", "0.0001", ""},
	{"text_encoder_lr", "Text encoder learning rate", "0.00001", ""},
	{"resolution", "Resolution", "512,512", "width,height"},
	{"train_batch_size", "Batch size", "1", ""},
}

func (f TrainingForm) value(name, def string) string {
	if v, ok := f.Values[name]; ok {
		return v
	}
	return def
}

// TrainingPage is GET /trainings/:id.
type TrainingPage struct {
	Base
	Training store.Training
	Logs     []TrainingLog
	// LoRAs are the checkpoints it produced.
	LoRAs     []store.Checkpoint
	CanModify bool
}

// TrainingLog is a log file with a presigned link.
type TrainingLog struct{ Name, URL string }

// trainingWords are the console's names of training statuses.
var trainingWords = map[string]string{
	"Initial": "Recorded", "Starting": "Waiting for a GPU", "Downloading": "Downloading the model and images",
	"Training": "Training", "Uploading": "Saving the LoRA", "Completed": "Finished", "Failed": "Failed", "Stopped": "Stopped",
}

func trainingWord(status string) string {
	if w, ok := trainingWords[status]; ok {
		return w
	}
	return status
}

func trainingRunning(t store.Training) bool { return !t.Finished() }

func trainingStatusClass(status string) string { return badgeClass(status, "Completed", "Failed") }

// trainingBackend names where a training runs; a run of Easel's training
// simulator says so, as it trains nothing.
func trainingBackend(t store.Training) string {
	if t.Backend == "workers" {
		if t.Trainer == workerproto.TrainerSimulator {
			return "worker pool " + t.InstanceType + " (training simulator: the LoRA is not trained)"
		}
		return "worker pool " + t.InstanceType
	}
	return "SageMaker " + t.InstanceType
}

// trainingProgress is a running training's progress in words.
func trainingProgress(t store.Training) string {
	var p struct {
		Epoch, Epochs, Step, Steps int
		Loss                       float64
	}
	if json.Unmarshal(t.Progress, &p) != nil || p.Epochs == 0 && p.Steps == 0 {
		return ""
	}
	var parts []string
	if p.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d of %d", p.Epoch, p.Epochs))
	}
	if p.Steps > 0 {
		parts = append(parts, fmt.Sprintf("step %d of %d", p.Step, p.Steps))
	}
	if p.Loss != 0 {
		parts = append(parts, "loss "+strconv.FormatFloat(p.Loss, 'g', 4, 64))
	}
	return strings.Join(parts, ", ")
}

// trainingPercent is how far a running training is, 0–100.
func trainingPercent(t store.Training) string {
	var p struct{ Step, Steps int }
	if json.Unmarshal(t.Progress, &p) != nil || p.Steps == 0 {
		return "0"
	}
	return strconv.Itoa(min(100, 100*p.Step/p.Steps))
}

// LossChart is the loss curve drawn as an SVG polyline in a 600×200 box.
type LossChart struct {
	Points                  string
	MinLoss, MaxLoss, Steps string
	N                       int
}

const chartW, chartH, chartPad = 600.0, 200.0, 8.0

// lossChart scales the [step, loss] points of curve into the chart box.
func lossChart(curve json.RawMessage) LossChart {
	var pts [][2]float64
	if json.Unmarshal(curve, &pts) != nil || len(pts) == 0 {
		return LossChart{}
	}
	minX, maxX, minY, maxY := pts[0][0], pts[0][0], pts[0][1], pts[0][1]
	for _, p := range pts {
		minX, maxX, minY, maxY = min(minX, p[0]), max(maxX, p[0]), min(minY, p[1]), max(maxY, p[1])
	}
	spanX, spanY := max(maxX-minX, 1e-9), max(maxY-minY, 1e-9)
	var b strings.Builder
	for i, p := range pts {
		x := chartPad + (p[0]-minX)/spanX*(chartW-2*chartPad)
		y := chartH - chartPad - (p[1]-minY)/spanY*(chartH-2*chartPad)
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }
	return LossChart{Points: b.String(), MinLoss: g(minY), MaxLoss: g(maxY), Steps: g(maxX), N: len(pts)}
}

// shortSHA is the first 12 hex digits of a SHA-256, "unknown" when empty.
func shortSHA(s string) string {
	if s == "" {
		return "unknown"
	}
	return s[:min(12, len(s))]
}

func fmWord(fm string) string {
	if fm == "sd_xl" {
		return "SDXL"
	}
	return "SD 1.5"
}
