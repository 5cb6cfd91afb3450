package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// DatasetFileInput is one item of POST /datasets' content.
type DatasetFileInput struct {
	Filename string         `json:"filename"`
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Params   map[string]any `json:"params"`
}

// DatasetInput creates (or replaces) a dataset.
type DatasetInput struct {
	Name        string             `json:"dataset_name"`
	Content     []DatasetFileInput `json:"content"`
	Prefix      string             `json:"prefix"`
	Params      map[string]any     `json:"params"`
	Description string             `json:"-"`
}

// CreatedDataset is a new dataset and one presigned PUT URL per filename.
type CreatedDataset struct {
	Dataset    store.Dataset
	UploadURLs map[string]string
}

// checkContent fills the defaults of in.Content and refuses path-like and
// repeated names.
func checkContent(in *DatasetInput) error {
	if len(in.Content) == 0 || len(in.Content) > MaxDatasetFiles {
		return store.FieldError("content", "a dataset holds 1 to %d files, not %d", MaxDatasetFiles, len(in.Content))
	}
	filenames, names := map[string]bool{}, map[string]bool{}
	for i := range in.Content {
		f := &in.Content[i]
		if f.Name == "" {
			f.Name = f.Filename
		}
		if f.Type == "" {
			f.Type = "image"
		}
		for _, n := range []string{f.Filename, f.Name} {
			if err := checkFilename(n); err != nil {
				return err
			}
		}
		if filenames[f.Filename] {
			return store.FieldError("content", "duplicate file name %s", f.Filename)
		}
		if names[f.Name] {
			return store.FieldError("content", "duplicate file name %s", f.Name)
		}
		filenames[f.Filename], names[f.Name] = true, true
	}
	return nil
}

// Create records a dataset of in.Content (status Initialed) and returns a
// presigned PUT URL (7 days) per file. An existing dataset of that name is
// replaced: its records and objects are removed first, which needs the
// right to delete it.
func (h *Datasets) Create(ctx context.Context, actor policy.Principal, in DatasetInput) (CreatedDataset, error) {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return CreatedDataset{}, err
	}
	if err := checkDatasetName(in.Name); err != nil {
		return CreatedDataset{}, err
	}
	if err := checkPrefix(in.Prefix); err != nil {
		return CreatedDataset{}, err
	}
	if err := checkContent(&in); err != nil {
		return CreatedDataset{}, err
	}
	if d, ok := in.Params["description"].(string); ok && in.Description == "" {
		in.Description = d
	}
	roles, err := ownersOf(ctx, h.store, actor)
	if err != nil {
		return CreatedDataset{}, err
	}
	replaces, err := h.replaceable(ctx, actor, in.Name)
	if err != nil {
		return CreatedDataset{}, err
	}
	if replaces {
		if err := h.removeObjects(ctx, in.Name); err != nil {
			return CreatedDataset{}, err
		}
	}
	d := store.Dataset{Name: in.Name, Prefix: in.Prefix, Status: store.DatasetInitialed, Description: in.Description,
		Params: in.Params, AllowedRoles: roles, Creator: actor.Name(), CreatedAt: h.store.Now().Truncate(time.Microsecond)}
	files := make([]store.DatasetFile, len(in.Content))
	out := CreatedDataset{Dataset: d, UploadURLs: map[string]string{}}
	for i, f := range in.Content {
		params := map[string]any{}
		for k, v := range f.Params {
			params[k] = v
		}
		params["original_file_name"] = f.Filename
		files[i] = store.DatasetFile{Dataset: d.Name, Key: jobs.DatasetFileKey(d.CreatedAt, f.Name), Name: f.Name,
			Filename: f.Filename, Type: f.Type, Status: store.DatasetInitialed, Params: params}
		if out.UploadURLs[f.Filename], err = h.blob.PresignPut(ctx, d.Folder()+"/"+f.Filename, DatasetUploadTTL); err != nil {
			return CreatedDataset{}, err
		}
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if replaces {
			if _, _, err := store.DeleteDataset(ctx, tx, d.Name); err != nil && store.ErrorCode(err) != store.ENotFound {
				return err
			}
		}
		if err := store.CreateDataset(ctx, tx, d, files); err != nil {
			if store.ErrorCode(err) == store.EConflict {
				return store.Errorf(store.EInvalid, "dataset %s already exists", d.Name)
			}
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "dataset.create", d.Name, fmt.Sprintf("%d files", len(files)))
	})
	return out, err
}

// replaceable reports whether a dataset called name exists and actor may
// replace it; one actor may not see or delete is a 400/403.
func (h *Datasets) replaceable(ctx context.Context, actor policy.Principal, name string) (bool, error) {
	d, err := h.visible(ctx, h.store.DB(), actor, name, false)
	switch store.ErrorCode(err) {
	case store.ENotFound:
		return false, nil
	case store.EForbidden:
		return false, store.Errorf(store.EInvalid, "dataset %s already exists", name)
	}
	if err != nil {
		return false, err
	}
	if !h.MayModify(actor, d) {
		return false, policy.Denied(actor, policy.TrainAll)
	}
	return true, nil
}

// removeObjects deletes every object of dataset name and its thumbnails.
func (h *Datasets) removeObjects(ctx context.Context, name string) error {
	for _, prefix := range []string{store.DatasetRoot(name), jobs.ThumbnailRoot(name)} {
		if _, err := h.blob.DeletePrefix(ctx, prefix); err != nil {
			return err
		}
	}
	return nil
}

// ownersOf is who a new row of actor is shared with: the user's roles, or
// the user alone when it has none (so its creator still sees it).
func ownersOf(ctx context.Context, s *store.Store, actor policy.Principal) ([]string, error) {
	if actor.Username == "" {
		return []string{actor.Name()}, nil
	}
	u, err := store.FindUser(ctx, s.DB(), actor.Username)
	if err != nil {
		return nil, err
	}
	if len(u.Roles) == 0 {
		return []string{u.Username}, nil
	}
	return u.Roles, nil
}
