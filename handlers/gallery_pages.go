package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/jobs"
	"easel/store"
	"easel/views"
)

// galleryCard is one job of the grid: its first image's thumbnail (the
// full image until the thumbnail is made), its download and, for txt2img
// jobs and callers who may generate, "Use these settings".
func (h *Inferences) galleryCard(ctx context.Context, job store.Inference, canCreate bool) (views.GalleryCard, error) {
	card := views.GalleryCard{Job: job}
	if canCreate && job.TaskType == "txt2img" {
		card.Again = "/gallery/" + job.ID.String() + "/again"
	}
	if len(job.ImageNames) == 0 {
		return card, nil
	}
	key := jobs.ResultPrefix(job.ID) + job.ImageNames[0]
	var err error
	if card.Download, err = h.blob.PresignDownload(ctx, key, job.ID.String()[:8]+"-1.png", actions.PresignTTL); err != nil {
		return card, err
	}
	if job.Thumbnails {
		card.Thumb = fmt.Sprintf("/gallery/%s/thumbs/0.jpg", job.ID)
		return card, nil
	}
	card.Thumb, err = h.blob.PresignGet(ctx, key, actions.PresignTTL)
	return card, err
}

// thumbCache lets browsers keep a thumbnail for good: its URL names the job
// and the image, which never change once stored. Private: only viewers
// allowed to see the job get it, so shared caches must not keep it.
const thumbCache = "private, max-age=31536000, immutable"

// ThumbnailImage is GET /gallery/:id/thumbs/:file (N.jpg): the gallery's
// small JPEG of the job's image N, to viewers who may see the job.
func (h *Inferences) ThumbnailImage(c echo.Context) error {
	ctx := c.Request().Context()
	job, err := h.Get(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	file := c.Param("file")
	n, err := strconv.Atoi(strings.TrimSuffix(file, ".jpg"))
	if err != nil || !strings.HasSuffix(file, ".jpg") || n < 0 || n >= len(job.ImageNames) || !job.Thumbnails {
		return store.Errorf(store.ENotFound, "job %s has no thumbnail %s", job.ID, file)
	}
	r, err := h.blob.Get(ctx, jobs.ThumbKey(job.ID, n))
	if err != nil {
		return err
	}
	defer r.Close()
	c.Response().Header().Set("Cache-Control", thumbCache)
	return c.Stream(http.StatusOK, "image/jpeg", r)
}

// AgainPage is GET /gallery/:id/again: Generate, filled in with the job's
// settings (the gallery's "Use these settings", which reads them only
// when asked).
func (h *Inferences) AgainPage(c echo.Context) error {
	job, err := h.Get(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.jobView(c, job)
	if err != nil {
		return err
	}
	if p.Again == "" {
		return store.Errorf(store.EInvalid, "job %s has no settings Generate can use (only txt2img jobs with A1111 parameters)", job.ID)
	}
	return c.Redirect(http.StatusSeeOther, p.Again)
}

// DeleteManyPage is POST /gallery/delete: deletes the checked jobs (form
// field id, repeated) the caller may delete, then shows the gallery again.
func (h *Inferences) DeleteManyPage(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return store.Errorf(store.EInvalid, "the form could not be read: %v", err)
	}
	ids := form["id"]
	if len(ids) == 0 {
		return store.Errorf(store.EInvalid, "no job is selected")
	}
	if len(ids) > galleryPage*20 {
		return store.Errorf(store.EInvalid, "at most %d jobs may be deleted at once", galleryPage*20)
	}
	if err := h.Delete(c.Request().Context(), actor(c), ids); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/gallery")
	return c.NoContent(http.StatusOK)
}
