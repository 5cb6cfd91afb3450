package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// pageLimit is how many models the console lists at once.
const pageLimit = 500

// hashWait is how long after a model became Active its row waits for the
// SHA-256 the checksum job records.
const hashWait = 10 * time.Minute

// Page is GET /models.
func (h *Checkpoints) Page(c echo.Context) error {
	ctx := c.Request().Context()
	who := actor(c)
	f := views.ModelFilter{Search: c.QueryParam("q"), Type: c.QueryParam("type"), Status: c.QueryParam("status"), Role: c.QueryParam("role")}
	q := actions.CheckpointQuery{Search: f.Search, Page: 1, PerPage: pageLimit}
	if f.Type != "" {
		q.Types = []string{f.Type}
	}
	if f.Status != "" {
		q.Statuses = []string{f.Status}
	}
	if f.Role != "" {
		q.Roles = []string{f.Role}
	}
	list, total, err := h.List(ctx, who, q)
	if err != nil {
		return err
	}
	roles, err := store.ListRoles(ctx, h.store.DB(), store.RoleFilter{})
	if err != nil {
		return err
	}
	p := views.ModelsPage{Base: pageBase(c, h.policy, "Models", "models"), Filter: f, Total: total,
		Types: store.CheckpointTypes, CanCreate: h.policy.Can(who, policy.CheckpointCreate),
		ImportForm: views.ImportForm{Types: store.CheckpointTypes, Errors: views.FormErrors{}}}
	for _, r := range roles {
		p.Roles = append(p.Roles, r.Name)
	}
	for _, ck := range list {
		p.Rows = append(p.Rows, h.row(who, ck))
	}
	if err := h.addLineage(ctx, p.Rows); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Models(p))
}

func (h *Checkpoints) row(who policy.Principal, c store.Checkpoint) views.ModelRow {
	// A finished upload gets its SHA-256 from a background job soon after.
	hashing := c.SHA256 == "" && c.Status == store.CheckpointActive && h.store.Now().Sub(c.UpdatedAt) < hashWait
	return views.ModelRow{Checkpoint: c, CanModify: h.MayModify(who, c), Hashing: hashing}
}

// renderRow answers with the row of the checkpoint in the path, shaped by
// edit (nil: plain).
func (h *Checkpoints) renderRow(c echo.Context, edit func(*views.ModelRow) error) error {
	ck, err := h.Visible(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	r := h.row(actor(c), ck)
	rows := []views.ModelRow{r}
	if err := h.addLineage(c.Request().Context(), rows); err != nil {
		return err
	}
	r = rows[0]
	if edit != nil {
		if err := edit(&r); err != nil {
			return err
		}
	}
	return Render(c, http.StatusOK, views.ModelRowView(r))
}

// RowPage is GET /models/:id/row (live import progress, cancel of edits).
func (h *Checkpoints) RowPage(c echo.Context) error { return h.renderRow(c, nil) }

// RenameForm is GET /models/:id/rename.
func (h *Checkpoints) RenameForm(c echo.Context) error {
	return h.renderRow(c, func(r *views.ModelRow) error { r.Renaming = true; return nil })
}

// RenamePage is POST /models/:id/rename.
func (h *Checkpoints) RenamePage(c echo.Context) error {
	name := c.FormValue("name")
	_, _, err := h.Change(c.Request().Context(), actor(c), c.Param("id"), actions.CheckpointChange{Name: &name})
	return h.rowAfter(c, err, func(r *views.ModelRow) { r.Renaming = true })
}

// StatusPage is POST /models/:id/status (disable or enable).
func (h *Checkpoints) StatusPage(c echo.Context) error {
	status := c.FormValue("status")
	_, _, err := h.Change(c.Request().Context(), actor(c), c.Param("id"), actions.CheckpointChange{Status: &status})
	return h.rowAfter(c, err, nil)
}

// ShareForm is GET /models/:id/sharing.
func (h *Checkpoints) ShareForm(c echo.Context) error {
	return h.renderRow(c, func(r *views.ModelRow) error { return h.shareForm(c, r, "") })
}

func (h *Checkpoints) shareForm(c echo.Context, r *views.ModelRow, msg string) error {
	roles, err := store.ListRoles(c.Request().Context(), h.store.DB(), store.RoleFilter{})
	if err != nil {
		return err
	}
	f := &views.ShareForm{Chosen: map[string]bool{}, Error: msg}
	for _, role := range roles {
		f.Roles = append(f.Roles, role.Name)
	}
	for _, role := range r.Checkpoint.AllowedRoles {
		f.Chosen[role] = true
	}
	r.Sharing = f
	return nil
}

// SharePage is POST /models/:id/sharing.
func (h *Checkpoints) SharePage(c echo.Context) error {
	form, _ := c.FormParams()
	err := h.Share(c.Request().Context(), actor(c), c.Param("id"), form["roles"])
	var msg string
	if err != nil {
		if _, _, ok := formErrors(err); !ok {
			return err
		}
		msg = store.ErrorMessage(err)
	}
	return h.renderRow(c, func(r *views.ModelRow) error {
		if msg == "" {
			return nil
		}
		return h.shareForm(c, r, msg)
	})
}

// rowAfter re-renders the row after an action: a user-fixable error is
// shown in the row (keeping the form open via reopen), others go to the
// error handler.
func (h *Checkpoints) rowAfter(c echo.Context, err error, reopen func(*views.ModelRow)) error {
	if err != nil {
		if _, _, ok := formErrors(err); !ok {
			return err
		}
	}
	return h.renderRow(c, func(r *views.ModelRow) error {
		if err != nil {
			r.Error = store.ErrorMessage(err)
			if reopen != nil {
				reopen(r)
			}
		}
		return nil
	})
}

// DeletePage is DELETE /models/:id (also the upload's cancel button).
func (h *Checkpoints) DeletePage(c echo.Context) error {
	ck, err := h.Visible(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), []string{ck.ID.String()}); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "")
}

// ImportPage is POST /models/imports.
func (h *Checkpoints) ImportPage(c echo.Context) error {
	in := actions.CheckpointInput{Type: c.FormValue("type"), URLs: []string{c.FormValue("url")}}
	created, err := h.Import(c.Request().Context(), actor(c), in)
	f := views.ImportForm{Types: store.CheckpointTypes, Type: in.Type, Errors: views.FormErrors{}}
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		if _, field := errs["urls"]; !field {
			if _, typeErr := errs["checkpoint_type"]; typeErr {
				errs = views.FormErrors{"urls": errs["checkpoint_type"]}
			}
		}
		f.URL, f.Errors = c.FormValue("url"), errs
		return renderFailed(c, status, errs, consoleCan(c, h.policy), views.ModelImportForm(f))
	}
	rows := make([]views.ModelRow, len(created))
	for i, ck := range created {
		rows[i] = h.row(actor(c), ck)
	}
	names := make([]string, 0, len(created))
	for _, ck := range created {
		names = append(names, ck.Names...)
	}
	return renderDone(c, http.StatusOK, templComponents(views.ModelImportForm(f),
		oobPrepend("models-body", templComponents(rowComponents(rows)...))),
		"Importing "+strings.Join(names, ", ")+"; it becomes Active when the download finishes.")
}

func rowComponents(rows []views.ModelRow) []templ.Component {
	out := make([]templ.Component, len(rows))
	for i, r := range rows {
		out[i] = views.ModelRowView(r)
	}
	return out
}
