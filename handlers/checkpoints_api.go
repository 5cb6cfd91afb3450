package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/jobs"
	"easel/store"
)

// timestampLayout is ESD's time format: UTC with six fractional digits.
const timestampLayout = jobs.ESDTimeLayout

type checkpointParams struct {
	Message   string                  `json:"message"`
	Creator   string                  `json:"creator"`
	Created   string                  `json:"created"`
	Multipart map[string]store.Upload `json:"multipart_upload,omitempty"`
}

func paramsOf(c store.Checkpoint) checkpointParams {
	p := checkpointParams{Message: c.Message, Creator: c.Creator, Created: c.CreatedAt.UTC().Format(timestampLayout)}
	if len(c.Uploads) > 0 {
		p.Multipart = c.Uploads
	}
	return p
}

// checkpointItem is one checkpoint of GET /checkpoints (numbers as strings).
type checkpointItem struct {
	ID           string           `json:"id"`
	S3Location   string           `json:"s3Location"`
	Type         string           `json:"type"`
	Status       string           `json:"status"`
	Name         []string         `json:"name"`
	Created      string           `json:"created"`
	Params       checkpointParams `json:"params"`
	AllowedRoles []string         `json:"allowed_roles_or_users"`
	// Ours: what the console shows too.
	Size     *string `json:"size,omitempty"`
	SHA256   string  `json:"sha256,omitempty"`
	Progress string  `json:"progress_bytes"`
	Total    *string `json:"total_bytes,omitempty"`
	Error    string  `json:"error"`
	// Ours: a pickle whose loading may run code, and the imports why.
	Unsafe        bool     `json:"unsafe"`
	UnsafeGlobals []string `json:"unsafe_globals,omitempty"`
}

func itemOf(c store.Checkpoint) checkpointItem {
	it := checkpointItem{ID: c.ID.String(), S3Location: c.S3Location, Type: c.Type, Status: c.Status,
		Name: c.Names, Created: fmt.Sprintf("%.6f", float64(c.CreatedAt.UnixMicro())/1e6), Params: paramsOf(c),
		AllowedRoles: c.AllowedRoles, SHA256: c.SHA256, Progress: strconv.FormatInt(c.ProgressBytes, 10), Error: c.Error,
		Unsafe: c.Unsafe, UnsafeGlobals: c.UnsafeGlobals}
	if c.Size != nil {
		s := strconv.FormatInt(*c.Size, 10)
		it.Size = &s
	}
	if c.TotalBytes != nil {
		s := strconv.FormatInt(*c.TotalBytes, 10)
		it.Total = &s
	}
	return it
}

// checkpointRef is the checkpoint of create and update answers.
type checkpointRef struct {
	ID         string           `json:"id"`
	Type       string           `json:"type"`
	S3Location string           `json:"s3_location"`
	Status     string           `json:"status"`
	Params     checkpointParams `json:"params"`
}

func refOf(c store.Checkpoint) checkpointRef {
	return checkpointRef{ID: c.ID.String(), Type: c.Type, S3Location: c.S3Location, Status: c.Status, Params: paramsOf(c)}
}

// maxPerPage bounds one page of GET /checkpoints.
const maxPerPage = 1000

func positiveInt(c echo.Context, name string, def, max int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, store.Errorf(store.EInvalid, "%s must be a whole number from 1 to %d, not %q", name, max, raw)
	}
	return n, nil
}

// ListAPI is GET /checkpoints.
func (h *Checkpoints) ListAPI(c echo.Context) error {
	page, err := positiveInt(c, "page", 1, 1<<30)
	if err != nil {
		return err
	}
	perPage, err := positiveInt(c, "per_page", 10, maxPerPage)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	list, total, err := h.List(c.Request().Context(), actor(c), actions.CheckpointQuery{
		Statuses: q["status"], Types: q["types"], Roles: q["roles"], Username: c.QueryParam("username"),
		Page: page, PerPage: perPage,
	})
	if err != nil {
		return err
	}
	items := make([]checkpointItem, len(list))
	for i, ck := range list {
		items[i] = itemOf(ck)
	}
	// ESD's page count: floor(total/per_page)+1, which the WebUI expects.
	return Respond(c, http.StatusOK, map[string]any{
		"page": page, "per_page": perPage, "pages": total/perPage + 1, "total": total, "checkpoints": items,
	}, "")
}

type checkpointCreateBody struct {
	actions.CheckpointInput
	Params struct {
		Message string `json:"message"`
	} `json:"params"`
}

// CreateAPI is POST /checkpoints: filenames (201, presigned part URLs) or
// urls (202, imported in the background).
func (h *Checkpoints) CreateAPI(c echo.Context) error {
	var body checkpointCreateBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	in := body.CheckpointInput
	in.Message = body.Params.Message
	ctx := c.Request().Context()
	switch {
	case len(in.URLs) > 0 && len(in.Files) > 0:
		return store.Errorf(store.EInvalid, "send either filenames or urls, not both")
	case len(in.URLs) > 0:
		if _, err := h.Import(ctx, actor(c), in); err != nil {
			return err
		}
		return Respond(c, http.StatusAccepted, nil, "Checkpoint creation in progress, please check later")
	case len(in.Files) > 0:
		out, err := h.Upload(ctx, actor(c), in)
		if err != nil {
			return err
		}
		return Respond(c, http.StatusCreated, map[string]any{
			"checkpoint": refOf(out.Checkpoint), "s3PresignUrl": out.PartURLs,
		}, "")
	}
	return store.Errorf(store.EInvalid, "filenames or urls is required")
}

// UpdateAPI is PUT /checkpoints/{id}.
func (h *Checkpoints) UpdateAPI(c echo.Context) error {
	var ch actions.CheckpointChange
	if err := decodeBody(c, &ch); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if ch.Status != nil && len(ch.Tags) == 0 {
		// ESD requires the tags with every status change, after the id.
		if _, err := h.Visible(ctx, actor(c), c.Param("id")); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return actions.CheckpointNotFound(c.Param("id"))
			}
			return err
		}
		return store.Errorf(store.EInvalid, "multi parts tags is empty")
	}
	prev, outcome, err := h.Change(ctx, actor(c), c.Param("id"), ch)
	if err != nil {
		return err
	}
	// ESD's answers: the status from before, "no need to update", 202 for a rename.
	switch outcome {
	case actions.StatusChanged:
		// ESD echoes the status from before the update.
		return Respond(c, http.StatusOK, map[string]any{"checkpoint": refOf(prev)}, "")
	case actions.NameUnchanged:
		return Respond(c, http.StatusOK, nil, "no need to update")
	case actions.RenameStarted:
		return Respond(c, http.StatusAccepted, nil, "rename is processing, please wait")
	}
	return Respond(c, http.StatusOK, nil, "")
}

// DeleteAPI is DELETE /checkpoints.
func (h *Checkpoints) DeleteAPI(c echo.Context) error {
	var in struct {
		IDs []string `json:"checkpoint_id_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.IDs); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "checkpoints deleted")
}
