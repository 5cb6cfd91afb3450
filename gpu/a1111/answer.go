package a1111

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"easel/gpu"
)

// ImageTasks are the tasks whose answer must carry images.
var ImageTasks = []string{Txt2img, Img2img, ExtraSingleImage, "extra-batch-images", "rembg"}

// ErrNoImages is the failure of an answer to an image task that has no
// images (an interrupted run, send_images off) and no error either.
var ErrNoImages = errors.New("the inference produced no images: the answer had neither images nor an error")

// CheckAnswer says why a successful answer to task is not the result
// asked for, or returns nil: an image task must return images, and when
// wantCheckpoint (the file name selected) is set the answer's
// info.sd_model_name must be its ModelName and, when both are known,
// info.sd_model_hash must equal wantHash10 (the first 10 hex digits of the
// file's SHA-256) — A1111 runs its default model when it does not know
// the one selected, and says so only there.
func CheckAnswer(task string, answer gpu.Result, wantCheckpoint, wantHash10 string) error {
	if len(answer.Images) == 0 && slices.Contains(ImageTasks, task) {
		return ErrNoImages
	}
	if wantCheckpoint == "" || (task != Txt2img && task != Img2img) {
		return nil
	}
	var info struct {
		Name *string `json:"sd_model_name"`
		Hash *string `json:"sd_model_hash"`
	}
	if err := json.Unmarshal([]byte(answer.Info), &info); err != nil {
		return fmt.Errorf("the answer's info is not JSON, so which model ran is unknown: %v", err)
	}
	want := ModelName(wantCheckpoint)
	switch {
	case info.Name == nil || *info.Name == "":
		return fmt.Errorf("the answer does not say which model ran (no sd_model_name in its info); %s was selected", wantCheckpoint)
	case *info.Name != want:
		return fmt.Errorf("the WebUI ran model %q, not the selected %s (it does not know that checkpoint, or another name matched)", *info.Name, wantCheckpoint)
	}
	if wantHash10 != "" && info.Hash != nil && *info.Hash != "" && !strings.EqualFold(*info.Hash, wantHash10) {
		return fmt.Errorf("the WebUI ran %s with hash %s, not %s: its file differs from the one selected", want, *info.Hash, strings.ToLower(wantHash10))
	}
	return nil
}
