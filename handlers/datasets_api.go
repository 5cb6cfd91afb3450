package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Datasets adapts the dataset actions to the API and the console.
type Datasets struct {
	*actions.Datasets
	policy *policy.Policy
}

// NewDatasets returns the dataset handlers.
func NewDatasets(a *actions.Datasets, p *policy.Policy) *Datasets {
	return &Datasets{Datasets: a, policy: p}
}

// epochString is ESD's timestamp: epoch seconds with six decimals, as a string.
func epochString(t time.Time) string {
	return fmt.Sprintf("%.6f", float64(t.UnixMicro())/1e6)
}

// datasetItem is a dataset of GET /datasets: its params spread in first,
// the fixed fields over them.
func (h *Datasets) datasetItem(d store.Dataset) map[string]any {
	it := map[string]any{}
	for k, v := range d.Params {
		it[k] = v
	}
	it["datasetName"] = d.Name
	it["s3"] = h.S3URL(d)
	it["status"] = d.Status
	it["timestamp"] = epochString(d.CreatedAt)
	it["description"] = d.Description
	return it
}

// ListAPI is GET /datasets.
func (h *Datasets) ListAPI(c echo.Context) error {
	limit := 0
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > actions.MaxDatasetPage {
			return store.FieldError("limit", "limit must be a whole number from 1 to %d, not %q", actions.MaxDatasetPage, raw)
		}
		limit = n
	}
	page, err := h.List(c.Request().Context(), actor(c), actions.DatasetQuery{
		Status: c.QueryParam("dataset_status"), Limit: limit, StartKey: c.QueryParam("exclusive_start_key"),
	})
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(page.Datasets))
	for i, d := range page.Datasets {
		items[i] = h.datasetItem(d)
	}
	var next *string
	if page.NextKey != "" {
		next = &page.NextKey
	}
	return Respond(c, http.StatusOK, map[string]any{"datasets": items, "last_evaluated_key": next}, "")
}

// CreateAPI is POST /datasets.
func (h *Datasets) CreateAPI(c echo.Context) error {
	var in actions.DatasetInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	out, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusCreated, map[string]any{
		"datasetName": out.Dataset.Name, "s3PresignUrl": out.UploadURLs,
	}, "")
}

// GetAPI is GET /datasets/{name}.
func (h *Datasets) GetAPI(c echo.Context) error {
	ctx := c.Request().Context()
	d, files, err := h.Get(ctx, actor(c), c.Param("name"))
	if err != nil {
		return err
	}
	records := make([]map[string]any, len(files))
	for i, f := range files {
		url, err := h.PreviewURL(ctx, f)
		if err != nil {
			return err
		}
		r := map[string]any{"original_file_name": f.Name}
		for k, v := range f.Params {
			r[k] = v
		}
		r["key"], r["name"], r["type"], r["preview_url"], r["dataStatus"] = f.Key, f.Name, f.Type, url, f.Status
		records[i] = r
	}
	it := h.datasetItem(d)
	it["dataset_name"], it["prefix"], it["data"] = d.Name, d.Prefix, records
	return Respond(c, http.StatusOK, it, "")
}

// UpdateAPI is PUT /datasets/{name}.
func (h *Datasets) UpdateAPI(c echo.Context) error {
	var in struct {
		Status string `json:"status"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.SetStatus(c.Request().Context(), actor(c), c.Param("name"), in.Status); err != nil {
		return err
	}
	return Respond(c, http.StatusOK, map[string]any{"datasetName": c.Param("name"), "status": in.Status}, "")
}

// DeleteAPI is DELETE /datasets.
func (h *Datasets) DeleteAPI(c echo.Context) error {
	var in struct {
		Names []string `json:"dataset_name_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.Names); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "")
}

// CropAPI is POST /datasets/{name}/crop.
func (h *Datasets) CropAPI(c echo.Context) error {
	var in struct {
		Resolution string `json:"max_resolution"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	target, err := h.Crop(c.Request().Context(), actor(c), c.Param("name"), in.Resolution)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusAccepted, map[string]any{"dataset_name": target}, "")
}
