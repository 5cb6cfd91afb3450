package views

import "strconv"

// JobSettings are a txt2img or img2img job's parameters, as a person reads
// them; Known is false when the uploaded file had none of them.
type JobSettings struct {
	Known                bool
	Prompt, Negative     string
	Sampler              string
	Width, Height, Steps int
	Batch                int
	CFG                  float64
	// Seed is the seed the images were made with (the requested one when
	// the result does not say).
	Seed int64
}

// JobImage is one result image: where to show it and where to save it.
type JobImage struct {
	URL, Download, Name string
}

func size(s JobSettings) string {
	return strconv.Itoa(s.Width) + " × " + strconv.Itoa(s.Height) + " px"
}

func cfg(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
