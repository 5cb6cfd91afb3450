package views

import (
	"fmt"
	"time"

	"easel/store"
)

// WorkersPage lists the GPU workers of the worker pools.
type WorkersPage struct {
	Base
	Pools   []string
	Workers []WorkerRow
	// CanAdd: the viewer may make worker keys (sagemaker_endpoint:all).
	CanAdd bool
	Form   WorkerAddForm
}

// WorkerRow is one worker as the page shows it.
type WorkerRow struct {
	store.Worker
	Online bool
	// Seen says how long ago it last called, in words.
	Seen string
}

// WorkerAddForm makes a worker key and shows the command that uses it.
type WorkerAddForm struct {
	CSRF   string
	Pools  []string
	Pool   string
	Name   string
	Errors FormErrors
	// Command is set once a key was made: the exact command to run on
	// the GPU machine, with the key (shown only once).
	Command string
	Key     string
}

// SinceText says how long ago t was, for "last seen".
func SinceText(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return formatTime(t)
}

func gpuText(w store.Worker) string {
	switch {
	case w.GPU != "" && w.GPUMemoryMiB > 0:
		return fmt.Sprintf("%s (%d GiB)", w.GPU, (w.GPUMemoryMiB+512)/1024)
	case w.GPU != "":
		return w.GPU
	}
	return "not reported"
}

func progressText(j *store.WorkerJob) string {
	return fmt.Sprintf("%s, %d%%", j.Stage, int(j.Progress*100+0.5))
}

// workerNotes says what a worker had to do for a job beyond running it.
func workerNotes(j store.Inference) string {
	switch {
	case j.Downloaded && j.Switched:
		return "downloaded the model and switched checkpoints"
	case j.Downloaded:
		return "downloaded the model first"
	case j.Switched:
		return "switched checkpoints first"
	case j.Status == store.InferenceSucceeded:
		return "had the model loaded"
	}
	return ""
}

// stageWord is a running worker job's stage in words.
func stageWord(stage string) string {
	switch stage {
	case "downloading":
		return "Downloading the model"
	case "switching":
		return "Loading the checkpoint"
	case "uploading":
		return "Uploading the images"
	case "leased":
		return "Starting"
	}
	return "Generating"
}

func progressValue(j store.Inference) string { return fmt.Sprintf("%d", int(j.Progress*100+0.5)) }
