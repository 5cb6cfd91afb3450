package trainer

import "strings"

// Normalise maps a backend's raw status to one of the eight (CONTRACT-
// TRAINING §3): SageMaker's primary and secondary statuses, ESD's
// spellings, or ours in any case. Launching, pending and restarting are
// Starting; an image or data download is Downloading; updating is
// Training; limits and interruptions are Failed. Unknown values are
// Training (the job runs, we do not know more).
func Normalise(raw string) string {
	s := strings.ToLower(strings.TrimSpace(raw))
	switch s {
	case "initial":
		return Initial
	case "starting", "pending", "launchingmlinstances", "preparingtrainingstack", "restarting", "inprogress", "":
		return Starting
	case "downloading", "downloadingtrainingimage":
		return Downloading
	case "training", "updating":
		return Training
	case "uploading":
		return Uploading
	case "completed", "complete":
		return Completed
	case "stopped", "stopping":
		return Stopped
	case "failed", "fail", "maxruntimeexceeded", "maxwaittimeexceeded", "interrupted":
		return Failed
	}
	return Training
}

// Running reports whether status is one of a job that has not ended.
func Running(status string) bool {
	switch status {
	case Starting, Downloading, Training, Uploading:
		return true
	}
	return false
}
