package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/imageops"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// datasetPageLimit is how many datasets the console lists at once.
const datasetPageLimit = 500

// Page is GET /datasets.
func (h *Datasets) Page(c echo.Context) error {
	who := actor(c)
	page, err := h.List(c.Request().Context(), who, actions.DatasetQuery{Limit: datasetPageLimit})
	if err != nil {
		return err
	}
	p := views.DatasetsPage{Base: pageBase(c, h.policy, "Datasets", "datasets"), CanCreate: h.CanWrite(who)}
	for _, d := range page.Datasets {
		p.Rows = append(p.Rows, views.DatasetRow{Dataset: d})
	}
	return Render(c, http.StatusOK, views.Datasets(p))
}

// datasetView gathers one dataset's page.
func (h *Datasets) datasetView(c echo.Context) (views.DatasetPage, error) {
	ctx := c.Request().Context()
	who := actor(c)
	d, files, err := h.Get(ctx, who, c.Param("name"))
	if err != nil {
		return views.DatasetPage{}, err
	}
	p := views.DatasetPage{Base: pageBase(c, h.policy, d.Name, "datasets"), Dataset: d, S3: h.S3URL(d),
		CanWrite: h.CanWrite(who), CanDelete: h.MayModify(who, d)}
	for _, f := range files {
		if !imageops.IsImageName(f.Filename) {
			if actions.CaptionName(f.Filename) != f.Filename || !hasImageFor(f.Filename, files) {
				p.Others = append(p.Others, f)
			}
			continue
		}
		thumb, err := h.ThumbnailURL(ctx, f)
		if err != nil {
			return p, err
		}
		// Thumbnails follow Enabled; a file never uploaded gets none.
		p.Waiting = p.Waiting || thumb == "" && f.SHA256 == "" && d.Status == "Enabled"
		p.Images = append(p.Images, views.DatasetImage{File: f, Thumb: thumb})
	}
	return p, nil
}

// hasImageFor reports whether caption belongs to a picture of files.
func hasImageFor(caption string, files []store.DatasetFile) bool {
	for _, f := range files {
		if imageops.IsImageName(f.Filename) && actions.CaptionName(f.Filename) == caption {
			return true
		}
	}
	return false
}

// DetailPage is GET /datasets/:name.
func (h *Datasets) DetailPage(c echo.Context) error {
	p, err := h.datasetView(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DatasetView(p))
}

// GridPage is GET /datasets/:name/grid: the thumbnails while they are made.
func (h *Datasets) GridPage(c echo.Context) error {
	p, err := h.datasetView(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DatasetGrid(p))
}

// UploadStart is POST /datasets/uploads (JSON from static/datasets.js):
// the dataset is recorded and each file gets its presigned PUT URL.
func (h *Datasets) UploadStart(c echo.Context) error {
	var req struct {
		Name        string   `json:"name"`
		Prefix      string   `json:"prefix"`
		Description string   `json:"description"`
		Files       []string `json:"files"`
	}
	if err := decodeBody(c, &req); err != nil {
		return jsonError(c, err)
	}
	in := actions.DatasetInput{Name: req.Name, Prefix: req.Prefix, Description: req.Description}
	if req.Description != "" {
		in.Params = map[string]any{"description": req.Description}
	}
	for _, f := range req.Files {
		in.Content = append(in.Content, actions.DatasetFileInput{Filename: f})
	}
	out, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return jsonError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"name": out.Dataset.Name, "urls": out.UploadURLs})
}

// StatusPage is POST /datasets/:name/status (a form or static/datasets.js).
func (h *Datasets) StatusPage(c echo.Context) error {
	name := c.Param("name")
	if err := h.SetStatus(c.Request().Context(), actor(c), name, c.FormValue("status")); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/datasets/"+name)
	return c.NoContent(http.StatusOK)
}

// CropPage is POST /datasets/:name/crop; the browser goes to the copy.
func (h *Datasets) CropPage(c echo.Context) error {
	target, err := h.Crop(c.Request().Context(), actor(c), c.Param("name"), c.FormValue("max_resolution"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/datasets/"+target)
	return c.NoContent(http.StatusOK)
}

// DeletePage is DELETE /datasets/:name; the browser goes back to the list.
func (h *Datasets) DeletePage(c echo.Context) error {
	if err := h.Delete(c.Request().Context(), actor(c), []string{c.Param("name")}); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/datasets")
	return c.NoContent(http.StatusOK)
}

// CaptionPage is GET /datasets/:name/caption?key=: one picture's caption.
func (h *Datasets) CaptionPage(c echo.Context) error {
	text, ok, err := h.Caption(c.Request().Context(), actor(c), c.Param("name"), c.QueryParam("key"))
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DatasetCaption(views.CaptionForm{Dataset: c.Param("name"), Key: c.QueryParam("key"),
		Caption: text, Exists: ok, CanWrite: h.policy.Can(actor(c), policy.TrainCreate)}))
}

// SaveCaptionPage is POST /datasets/:name/caption: writes the .txt object.
func (h *Datasets) SaveCaptionPage(c echo.Context) error {
	name, key, text := c.Param("name"), c.FormValue("key"), c.FormValue("caption")
	if _, err := h.SaveCaption(c.Request().Context(), actor(c), name, key, text); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DatasetCaption(views.CaptionForm{Dataset: name, Key: key, Caption: text,
		Exists: true, CanWrite: true, Saved: true}))
}
