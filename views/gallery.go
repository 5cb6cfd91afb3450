package views

import (
	"time"

	"easel/store"
)

// GalleryPage is the grid of inference jobs.
type GalleryPage struct {
	Base
	Filter    GalleryFilter
	Cards     []GalleryCard
	More      string // query string of the next page; "" at the end
	Users     []string
	Endpoints []string
	Models    []string
	CanAll    bool
}

// GalleryFilter is the gallery's filter, echoed into its form.
type GalleryFilter struct {
	User, Status, Model, Endpoint, Since string
}

// GalleryCard is one job in the grid.
type GalleryCard struct {
	Job store.Inference
	// Thumb is the first image's thumbnail, or its presigned URL until the
	// thumbnail is made; "" when the job has no image.
	Thumb string
	// Download saves the first image ("" when none); Again opens Generate
	// with the job's settings ("" when it cannot).
	Download, Again string
}

// JobPage is one inference job.
type JobPage struct {
	Base
	Job       store.Inference
	Images    []JobImage
	Infotexts []string
	Settings  JobSettings
	// Params is the uploaded parameter file, pretty-printed.
	Params string
	// Again opens Generate with these settings; "" when it cannot.
	Again     string
	CanModify bool
}

// GeneratePage is the form that creates and starts a txt2img job.
type GeneratePage struct {
	Base
	Form GenerateForm
}

// GenerateForm holds the Generate fields and the choices they offer.
type GenerateForm struct {
	Prompt, Negative, Model, Sampler, Type string
	Steps, CFG, Width, Height, Seed, Batch string
	Models                                 []string
	Samplers                               []string
	Errors                                 FormErrors
	// Can shapes the hints (where to get a model).
	Can Can
}

// Samplers offered by the Generate page (A1111's common ones).
var Samplers = []string{"Euler a", "Euler", "DPM++ 2M Karras", "DPM++ SDE Karras", "DDIM", "UniPC"}

func jobStatusClass(status string) string {
	return badgeClass(status, store.InferenceSucceeded, store.InferenceFailed)
}

func running(j store.Inference) bool {
	return j.Status == store.InferenceCreated || j.Status == store.InferenceInProgress
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func elapsed(from time.Time, to *time.Time) string {
	if to == nil {
		return ""
	}
	return to.Sub(from).Round(10 * time.Millisecond).String()
}

func modelNames(j store.Inference) []string {
	var out []string
	for _, list := range j.UsedModels {
		for _, m := range list {
			out = append(out, m.Name)
		}
	}
	return out
}

func galleryLead(p GalleryPage) string {
	if p.CanAll {
		return "Every image your team generated, newest first."
	}
	return "The images of your jobs, newest first."
}
