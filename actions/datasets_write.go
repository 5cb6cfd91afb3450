package actions

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// SetStatus sets a dataset and all its files to status; becoming Enabled
// starts the job that records each file's size, SHA-256 and thumbnail.
func (h *Datasets) SetStatus(ctx context.Context, actor policy.Principal, name, status string) error {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return err
	}
	if !slices.Contains(store.DatasetStatuses, status) {
		return store.FieldError("status", "status must be one of %s, not %q", strings.Join(store.DatasetStatuses, ", "), status)
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		d, err := h.visible(ctx, tx, actor, name, true)
		if err != nil {
			return err
		}
		if err := store.SetDatasetStatus(ctx, tx, name, status, h.store.Now()); err != nil {
			return err
		}
		if status == store.DatasetEnabled {
			if _, err := h.jobs.InsertTx(ctx, tx, jobs.DatasetFilesArgs{Dataset: name, Created: d.CreatedAt}, nil); err != nil {
				return fmt.Errorf("enqueue dataset files: %w", err)
			}
		}
		return store.Audit(ctx, tx, actor.Name(), "dataset.status", name, status)
	})
}

// Delete removes the named datasets: their objects and thumbnails, then
// their records. Unknown names and datasets actor may not see are
// skipped; one it sees but may not delete (MayModify) fails the call
// before anything is removed.
func (h *Datasets) Delete(ctx context.Context, actor policy.Principal, names []string) error {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return err
	}
	var doomed []string
	for _, name := range dedupe(names) {
		d, err := h.visible(ctx, h.store.DB(), actor, name, false)
		if c := store.ErrorCode(err); c == store.ENotFound || c == store.EForbidden {
			continue
		}
		if err != nil {
			return err
		}
		if !h.MayModify(actor, d) {
			return policy.Denied(actor, policy.TrainAll)
		}
		doomed = append(doomed, name)
	}
	for _, name := range doomed {
		if err := h.removeObjects(ctx, name); err != nil {
			return err
		}
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		for _, name := range doomed {
			_, files, err := store.DeleteDataset(ctx, tx, name)
			if store.ErrorCode(err) == store.ENotFound {
				continue
			}
			if err != nil {
				return err
			}
			if err := store.Audit(ctx, tx, actor.Name(), "dataset.delete", name, fmt.Sprintf("%d files", len(files))); err != nil {
				return err
			}
		}
		return nil
	})
}

// resolutionPattern is ESD's max_resolution rule: <width>x<height>.
var resolutionPattern = regexp.MustCompile(`^[1-9]\d*x[1-9]\d*$`)

// MaxCropSide bounds each side of a crop's box, in pixels.
const MaxCropSide = 8192

// parseResolution reads "<width>x<height>".
func parseResolution(s string) (w, h int, err error) {
	bad := store.FieldError("max_resolution", "max_resolution must be <width>x<height> with sides from 1 to %d, such as 512x512, not %q", MaxCropSide, s)
	if !resolutionPattern.MatchString(s) {
		return 0, 0, bad
	}
	ws, hs, _ := strings.Cut(s, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if errW != nil || errH != nil || w > MaxCropSide || h > MaxCropSide {
		return 0, 0, bad
	}
	return w, h, nil
}

// Crop records the dataset <name>_<W>x<H> at once (Enabled, the source's
// prefix, params and owners) and one background job per source file,
// which adds the file's record when done. It returns the target's name.
func (h *Datasets) Crop(ctx context.Context, actor policy.Principal, name, resolution string) (string, error) {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return "", err
	}
	w, ht, err := parseResolution(resolution)
	if err != nil {
		return "", err
	}
	target := name + "_" + resolution
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		src, err := h.visible(ctx, tx, actor, name, false)
		if err != nil {
			return err
		}
		files, err := store.DatasetFiles(ctx, tx, name)
		if err != nil {
			return err
		}
		d := store.Dataset{Name: target, Prefix: src.Prefix, Status: store.DatasetEnabled, Description: src.Description,
			Params: src.Params, AllowedRoles: src.AllowedRoles, Creator: actor.Name(), CroppedFrom: name, CreatedAt: h.store.Now().Truncate(time.Microsecond)}
		if err := store.CreateDataset(ctx, tx, d, nil); err != nil {
			if store.ErrorCode(err) == store.EConflict {
				return store.Errorf(store.EInvalid, "dataset %s already exists", target)
			}
			return err
		}
		params := make([]river.InsertManyParams, len(files))
		for i, f := range files {
			params[i] = river.InsertManyParams{Args: jobs.DatasetCropArgs{Source: name, Key: f.Key, Target: target,
				TargetCreated: d.CreatedAt, Width: w, Height: ht}}
		}
		if len(params) > 0 {
			if _, err := h.jobs.InsertManyFastTx(ctx, tx, params); err != nil {
				return fmt.Errorf("enqueue crop: %w", err)
			}
		}
		return store.Audit(ctx, tx, actor.Name(), "dataset.crop", target, fmt.Sprintf("from %s, %d files", name, len(files)))
	})
	return target, err
}
