package jobs

import (
	"errors"
	"slices"

	"easel/gpu"
	"easel/store"
)

// imageTasks are the tasks whose result is images (every task ESD knows).
var imageTasks = []string{"txt2img", "img2img", "extra-single-image", "extra-batch-images", "rembg"}

// resultError says why an answer a backend returned as a success is a
// failed job, or nil: the server said it failed (the ESD container's null,
// a WebUI's error JSON), or a task that produces images got none. This is
// the one place that rule lives, for every backend.
func resultError(task string, res gpu.Result) error {
	if res.Failure != "" {
		return errors.New(res.Failure)
	}
	if len(res.Images) == 0 && slices.Contains(imageTasks, task) {
		return errors.New("the inference produced no images: the answer had neither images nor an error")
	}
	return nil
}

// containerModels is the model list of the ESD container: each used
// checkpoint (id, first file name, S3 folder, type) and the built-in VAE
// choices, with ESD's space_free_size.
func containerModels(used map[string][]store.UsedModel) gpu.Models {
	if len(used) == 0 {
		return gpu.Models{}
	}
	m := gpu.Models{SpaceFreeSize: gpu.SpaceFreeSize, ByType: map[string][]gpu.Model{}}
	for typ, list := range used {
		for _, u := range list {
			m.ByType[typ] = append(m.ByType[typ], gpu.Model{ID: u.ID, Name: u.Name, S3: u.S3, Type: u.Type})
		}
	}
	return m
}
