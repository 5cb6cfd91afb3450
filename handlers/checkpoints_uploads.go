package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
	"easel/views"
)

// uploadRequest is what static/upload.js sends to start browser uploads.
type uploadRequest struct {
	Type  string `json:"type"`
	Files []struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	} `json:"files"`
}

// partSizeFor picks the part size of a browser upload: at least 8 MiB,
// 64 MiB for files of 1 GiB and more (fewer, larger parts measured faster:
// bench/upload), and large enough for at most 100 parts, in whole MiB.
func partSizeFor(size int64) int64 {
	const mib = 1 << 20
	part := max(int64(8*mib), (size+99)/100)
	if size >= 1<<30 {
		part = max(part, 64*mib)
	}
	return (part + mib - 1) / mib * mib
}

// UploadStart is POST /models/uploads (JSON, from static/upload.js): one
// checkpoint per file, with its part size and presigned part URLs.
func (h *Checkpoints) UploadStart(c echo.Context) error {
	var req uploadRequest
	if err := decodeBody(c, &req); err != nil {
		return jsonError(c, err)
	}
	type started struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		PartSize int64    `json:"part_size"`
		URLs     []string `json:"urls"`
	}
	names := make([]string, len(req.Files))
	for i, f := range req.Files {
		names[i] = f.Name
	}
	// All names are checked before any upload starts, so a clash on the
	// third file leaves nothing behind for the first two.
	if err := h.NamesFree(c.Request().Context(), names); err != nil {
		return jsonError(c, err)
	}
	var out []started
	for _, f := range req.Files {
		part := partSizeFor(f.Size)
		parts := int(max(1, (f.Size+part-1)/part))
		if parts > 100 {
			return jsonError(c, store.Errorf(store.EInvalid, "%s is too large for a browser upload (at most 100 parts)", f.Name))
		}
		res, err := h.Upload(c.Request().Context(), actor(c), actions.CheckpointInput{Type: req.Type,
			Files: []actions.FileInput{{Filename: f.Name, PartsNumber: parts}}, Message: "uploaded from the console"})
		if err != nil {
			return jsonError(c, err)
		}
		out = append(out, started{ID: res.Checkpoint.ID.String(), Name: f.Name, PartSize: part, URLs: res.PartURLs[f.Name]})
	}
	return c.JSON(http.StatusOK, map[string]any{"uploads": out})
}

// UploadComplete is POST /models/:id/complete (JSON from static/upload.js).
func (h *Checkpoints) UploadComplete(c echo.Context) error {
	var req struct {
		Tags map[string][]actions.PartTag `json:"multi_parts_tags"`
	}
	if err := decodeBody(c, &req); err != nil {
		return jsonError(c, err)
	}
	active := store.CheckpointActive
	if _, _, err := h.Change(c.Request().Context(), actor(c), c.Param("id"), actions.CheckpointChange{Status: &active, Tags: req.Tags}); err != nil {
		return jsonError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": active})
}

// jsonError answers a script's request with {"error": message}.
func jsonError(c echo.Context, err error) error {
	status, ok := ConsoleStatus(err)
	if !ok {
		return err
	}
	return c.JSON(status, map[string]string{"error": views.Plainly(store.ErrorMessage(err))})
}
