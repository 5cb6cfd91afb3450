package jobs

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // results are stored as PNG
	"io"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/image/draw"

	"easel/store"
)

// ThumbSide is the longest side of a gallery thumbnail, in pixels.
const ThumbSide = 320

// ThumbKey is where the thumbnail of a job's image number n lives, next to
// the job's results (and removed with them).
func ThumbKey(id uuid.UUID, n int) string { return ResultPrefix(id) + fmt.Sprintf("thumbs/%d.jpg", n) }

// ThumbnailsArgs is the periodic making of the gallery's thumbnails: a
// small JPEG of each image of each succeeded job, made once (the job's
// thumbnails flag), whichever way its images were stored.
type ThumbnailsArgs struct{}

// Kind names the job in River.
func (ThumbnailsArgs) Kind() string { return "gallery_thumbnails" }

// InsertOpts: one pending run at a time is enough.
func (ThumbnailsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

type thumbnailsWorker struct {
	river.WorkerDefaults[ThumbnailsArgs]
	d Deps
}

func (w *thumbnailsWorker) Work(ctx context.Context, _ *river.Job[ThumbnailsArgs]) error {
	return MakeThumbnails(ctx, w.d)
}

// MakeThumbnails stores the thumbnails of the succeeded jobs that have
// none yet (at most 50 jobs a call, latest first). A job whose images
// cannot be read is logged and skipped; the gallery shows its full image.
func MakeThumbnails(ctx context.Context, d Deps) error {
	todo, err := store.WithoutThumbnails(ctx, d.Store.DB(), 50)
	if err != nil {
		return err
	}
	for _, job := range todo {
		if err := jobThumbnails(ctx, d, job); err != nil {
			if ctx.Err() != nil {
				return err
			}
			d.Log.Warn("thumbnails not made", "inference", job.ID, "error", err)
		}
	}
	return nil
}

// jobThumbnails stores the thumbnails of one job's images and marks it.
func jobThumbnails(ctx context.Context, d Deps, job store.Inference) error {
	for n, name := range job.ImageNames {
		thumb, err := thumbnail(ctx, d, ResultPrefix(job.ID)+name)
		if err != nil {
			return fmt.Errorf("thumbnail of %s: %w", name, err)
		}
		if err := d.Blob.Put(ctx, ThumbKey(job.ID, n), thumb, "image/jpeg"); err != nil {
			return err
		}
	}
	ok, err := store.MarkThumbnails(ctx, d.Store.DB(), job.ID)
	if err != nil || ok {
		return err
	}
	// Deleted meanwhile: leave nothing of it behind.
	_, err = d.Blob.DeletePrefix(ctx, ResultPrefix(job.ID))
	return err
}

// thumbnail reads the image at key and returns it as a JPEG at most
// ThumbSide pixels on its longest side, transparency on white.
func thumbnail(ctx context.Context, d Deps, key string) ([]byte, error) {
	r, err := d.Blob.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	src, _, err := image.Decode(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if side := max(w, h); side > ThumbSide {
		w, h = max(1, w*ThumbSide/side), max(1, h*ThumbSide/side)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 82}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
