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
	"runtime"
	"time"

	"github.com/riverqueue/river"

	"easel/blob"
	"easel/imageops"
	"easel/store"
)

// maxDatasetFile bounds one dataset file read into memory by these jobs.
const maxDatasetFile = 256 << 20

// pictureSlots bounds the dataset files read, decoded, scaled and encoded
// at once: the work is CPU-bound, and each file holds its bytes, pixels and
// the scaler's buffers (megabytes), so more at once than cores only adds
// memory (River runs up to 50 jobs at once).
var pictureSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// withPictureSlot runs f holding one of pictureSlots.
func withPictureSlot(ctx context.Context, f func() error) error {
	select {
	case pictureSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-pictureSlots }()
	return f()
}

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

// InsertOpts puts the job in the dataset queue.
func (DatasetFilesArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: DatasetQueue} }

// DatasetQueue is the River queue of the dataset jobs.
const DatasetQueue = "datasets"

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
		err := withPictureSlot(ctx, func() error {
			data, err := readObject(ctx, w.d.Blob, f.ObjectKey)
			if blob.IsNotFound(err) {
				return nil // never uploaded: nothing to record
			}
			if err != nil {
				return err
			}
			sha, thumb, err := fileFacts(ctx, w.d, f, data, nil)
			if err != nil {
				return err
			}
			return store.RecordDatasetFile(ctx, w.d.Store.DB(), f.Dataset, f.Key, int64(len(data)), sha, thumb)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fileFacts returns the SHA-256 of a file whose bytes are data and, for
// images, stores its thumbnail and returns its key; img is its decoded
// picture when the caller has it. The caller holds a picture slot.
func fileFacts(ctx context.Context, d Deps, f store.DatasetFile, data []byte, img image.Image) (sha, thumb string, err error) {
	sum := sha256.Sum256(data)
	if imageops.IsImageName(f.Name) || imageops.IsImageName(f.Filename) {
		var jpg []byte
		if img == nil {
			decoded, err := imageops.Decode(data)
			if err != nil {
				d.Log.Info("dataset file is not a readable image: no thumbnail", "key", f.ObjectKey, "error", err)
			}
			img = decoded
		}
		if img != nil {
			var err error
			if jpg, err = imageops.Thumbnail(img); err != nil {
				return "", "", fmt.Errorf("thumbnail %s: %w", f.ObjectKey, err)
			}
		}
		if jpg != nil {
			thumb = ThumbnailKey(f.Dataset, f.Key)
			if err := d.Blob.Put(ctx, thumb, jpg, "image/jpeg"); err != nil {
				return "", "", err
			}
		}
	}
	return hex.EncodeToString(sum[:]), thumb, nil
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
