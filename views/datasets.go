package views

import (
	"net/url"
	"time"

	"easel/store"
)

// DatasetsPage lists the training datasets the viewer may see.
type DatasetsPage struct {
	Base
	Rows []DatasetRow
	// CanCreate shows the upload panel (train:create).
	CanCreate bool
}

// DatasetRow is one dataset of the list.
type DatasetRow struct {
	Dataset store.Dataset
}

// DatasetPage is one dataset: its pictures with captions, other files,
// and what the viewer may do with it.
type DatasetPage struct {
	Base
	Dataset store.Dataset
	S3      string
	Images  []DatasetImage
	Others  []store.DatasetFile
	// CanWrite allows status changes, captions and crops (train:create);
	// CanDelete deleting (its creator, or train:all).
	CanWrite, CanDelete bool
	// Waiting is set while thumbnails are still being made.
	Waiting bool
}

// DatasetImage is one picture of a dataset with its thumbnail link.
type DatasetImage struct {
	File  store.DatasetFile
	Thumb string
}

// CaptionForm edits the caption of one picture.
type CaptionForm struct {
	Dataset, Key, Caption string
	Exists, CanWrite      bool
	Saved                 bool
}

func datasetStatusClass(status string) string {
	switch status {
	case store.DatasetEnabled:
		return "badge ok"
	case store.DatasetDisabled:
		return "badge muted"
	}
	return "badge warn"
}

// datasetStatusWord names a dataset status in plain words.
func datasetStatusWord(status string) string {
	if status == store.DatasetInitialed {
		return "Uploading"
	}
	return status
}

func shortTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func fileSize(f store.DatasetFile) string {
	if f.Size == nil {
		return "—"
	}
	return humanBytes(*f.Size)
}

func captionURL(dataset, key string) string {
	return "/datasets/" + dataset + "/caption?key=" + url.QueryEscape(key)
}
