package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"github.com/riverqueue/river"

	"easel/blob"
	"easel/imageops"
	"easel/store"
)

// maxDatasetFile bounds one dataset file read into memory by these jobs.
const maxDatasetFile = 256 << 20

// ThumbnailKey is where the JPEG thumbnail of a dataset file lies: outside
// dataset/<name>/, which the trainer reads whole.
func ThumbnailKey(dataset, key string) string {
	return ThumbnailRoot(dataset) + key + ".jpg"
}

// ThumbnailRoot is the prefix of every thumbnail of dataset name.
func ThumbnailRoot(dataset string) string { return "thumbnails/dataset/" + dataset + "/" }

// DatasetFilesArgs records the size and SHA-256 of every file of a dataset
// that has none yet, and makes thumbnails of its images (after the client
// set the dataset Enabled). Created tells this dataset from a later one of
// the same name.
type DatasetFilesArgs struct {
	Dataset string    `json:"dataset"`
	Created time.Time `json:"created"`
}

// Kind names the job in River.
func (DatasetFilesArgs) Kind() string { return "dataset_files" }

type datasetFilesWorker struct {
	river.WorkerDefaults[DatasetFilesArgs]
	d Deps
}

func (w *datasetFilesWorker) Work(ctx context.Context, job *river.Job[DatasetFilesArgs]) error {
	ds, err := store.GetDataset(ctx, w.d.Store.DB(), job.Args.Dataset)
	if errors.Is(err, store.ErrNotFound) || err == nil && !ds.CreatedAt.Equal(job.Args.Created) {
		return nil // deleted or replaced meanwhile
	}
	if err != nil {
		return err
	}
	files, err := store.DatasetFiles(ctx, w.d.Store.DB(), ds.Name)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.SHA256 != "" {
			continue
		}
		data, err := readObject(ctx, w.d.Blob, f.ObjectKey)
		if blob.IsNotFound(err) {
			continue // never uploaded: nothing to record
		}
		if err != nil {
			return err
		}
		if err := recordFile(ctx, w.d, f, data, nil); err != nil {
			return err
		}
	}
	return nil
}

// recordFile stores the size, SHA-256 and (for images) a thumbnail of a
// file whose bytes are data; img is its decoded picture when the caller
// has it.
func recordFile(ctx context.Context, d Deps, f store.DatasetFile, data []byte, img image.Image) error {
	sum := sha256.Sum256(data)
	thumb := ""
	if imageops.IsImageName(f.Name) || imageops.IsImageName(f.Filename) {
		if img == nil {
			if decoded, err := imageops.Decode(data); err == nil {
				img = decoded
			} else {
				d.Log.Info("dataset file is not a readable image: no thumbnail", "key", f.ObjectKey, "error", err)
			}
		}
		if img != nil {
			jpg, err := imageops.Thumbnail(img)
			if err != nil {
				return fmt.Errorf("thumbnail %s: %w", f.ObjectKey, err)
			}
			thumb = ThumbnailKey(f.Dataset, f.Key)
			if err := d.Blob.Put(ctx, thumb, jpg, "image/jpeg"); err != nil {
				return err
			}
		}
	}
	return store.RecordDatasetFile(ctx, d.Store.DB(), f.Dataset, f.Key, int64(len(data)), hex.EncodeToString(sum[:]), thumb)
}

// readObject reads the object key whole (at most maxDatasetFile bytes).
func readObject(ctx context.Context, b *blob.Client, key string) ([]byte, error) {
	r, err := b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, maxDatasetFile+1))
	if err != nil {
		return nil, err
	}
	if n > maxDatasetFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", key, maxDatasetFile)
	}
	return buf.Bytes(), nil
}
