package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/riverqueue/river"

	"easel/blob"
	"easel/imageops"
	"easel/store"
)

// DatasetCropArgs makes one file of a crop's target dataset from the
// source record Key: images fitted to Width×Height, other files copied.
// TargetCreated tells the target from a later dataset of the same name.
type DatasetCropArgs struct {
	Source        string    `json:"source"`
	Key           string    `json:"key"`
	Target        string    `json:"target"`
	TargetCreated time.Time `json:"target_created"`
	Width         int       `json:"width"`
	Height        int       `json:"height"`
}

// Kind names the job in River.
func (DatasetCropArgs) Kind() string { return "dataset_crop" }

type datasetCropWorker struct {
	river.WorkerDefaults[DatasetCropArgs]
	d Deps
}

// DatasetFileKey is ESD's record key: "<epoch seconds with fraction>_<name>".
func DatasetFileKey(created time.Time, name string) string {
	return fmt.Sprintf("%.6f_%s", float64(created.UnixMicro())/1e6, name)
}

func (w *datasetCropWorker) Work(ctx context.Context, job *river.Job[DatasetCropArgs]) error {
	a := job.Args
	db := w.d.Store.DB()
	target, err := store.GetDataset(ctx, db, a.Target)
	if errors.Is(err, store.ErrNotFound) || err == nil && !target.CreatedAt.Equal(a.TargetCreated) {
		return nil // the target was deleted or replaced meanwhile
	}
	if err != nil {
		return err
	}
	src, err := store.DatasetFileByKey(ctx, db, a.Source, a.Key)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the source file went away
	}
	if err != nil {
		return err
	}
	data, err := readObject(ctx, w.d.Blob, src.ObjectKey)
	if blob.IsNotFound(err) {
		w.d.Log.Info("crop: source object missing, file skipped", "key", src.ObjectKey)
		return nil
	}
	if err != nil {
		return err
	}
	var img image.Image
	if imageops.IsImageName(src.Name) {
		decoded, err := imageops.Decode(data)
		if err != nil {
			// ESD's worker fails on such files too; the record never appears.
			w.d.Log.Warn("crop: not a readable image, file skipped", "key", src.ObjectKey, "error", err)
			return nil
		}
		img = imageops.Fit(decoded, a.Width, a.Height)
		var buf bytes.Buffer
		if err := imageops.Encode(&buf, src.Name, img); err != nil {
			return river.JobCancel(fmt.Errorf("crop %s: %w", src.ObjectKey, err))
		}
		data = buf.Bytes()
	}
	out := store.DatasetFile{Dataset: target.Name, Key: DatasetFileKey(target.CreatedAt, src.Name), Name: src.Name,
		Filename: src.Name, Type: src.Type, Status: store.DatasetEnabled, Params: map[string]any{}}
	out.ObjectKey = target.Folder() + "/" + src.Name
	if err := w.d.Blob.Put(ctx, out.ObjectKey, data, ""); err != nil {
		return err
	}
	if err := store.AddDatasetFile(ctx, db, out); err != nil {
		if store.ErrorCode(err) == store.EInvalid || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	return recordFile(ctx, w.d, out, data, img)
}
