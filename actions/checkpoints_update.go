package actions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// PartTag is one uploaded part as the client reports it.
type PartTag struct {
	ETag       string `json:"ETag"`
	PartNumber int    `json:"PartNumber"`
}

// CheckpointChange is ESD's PUT /checkpoints/{id}: complete the upload
// (Status with Tags), change status, or rename (Name).
type CheckpointChange struct {
	Status *string              `json:"status"`
	Name   *string              `json:"name"`
	Tags   map[string][]PartTag `json:"multi_parts_tags"`
}

// ChangeOutcome says what Change did.
type ChangeOutcome int

// Outcomes of Change.
const (
	Unchanged     ChangeOutcome = iota // nothing asked
	StatusChanged                      // the status changed (an upload may have completed)
	NameUnchanged                      // the name asked is the name it has
	RenameStarted                      // renamed; a job moves the file
)

// settableStatuses are the statuses a client may set.
var settableStatuses = []string{store.CheckpointInitial, store.CheckpointActive, store.CheckpointDisabled}

// checkpointForWrite returns the checkpoint with id locked, if actor may
// see it (else ErrNotFound in ESD's words) and change it (MayModify).
func (h *Checkpoints) checkpointForWrite(ctx context.Context, tx pgx.Tx, actor policy.Principal, id uuid.UUID) (store.Checkpoint, error) {
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return store.Checkpoint{}, err
	}
	c, err := store.FindVisibleCheckpoint(ctx, tx, v, id, true)
	if errors.Is(err, store.ErrNotFound) {
		return c, CheckpointNotFound(id.String())
	}
	if err != nil {
		return c, err
	}
	if !h.MayModify(actor, c) {
		return c, policy.Denied(actor, policy.CheckpointAll)
	}
	return c, nil
}

// MayModify reports whether actor may change or delete c: it needs
// checkpoint:create and to be c's creator, or checkpoint:all. The console
// shows a row's buttons by the same rule.
func (h *Checkpoints) MayModify(actor policy.Principal, c store.Checkpoint) bool {
	return h.policy.Can(actor, policy.CheckpointCreate) && (c.Creator == actor.Name() || h.policy.Can(actor, policy.CheckpointAll))
}

// Visible returns the checkpoint with id if actor may see it, else
// ErrNotFound.
func (h *Checkpoints) Visible(ctx context.Context, actor policy.Principal, raw string) (store.Checkpoint, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return store.Checkpoint{}, store.ErrNotFound
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return store.Checkpoint{}, err
	}
	return store.FindVisibleCheckpoint(ctx, h.store.DB(), v, id, false)
}

// CheckpointNotFound is the error for a checkpoint that does not exist or
// that the caller may not see, in ESD's words.
func CheckpointNotFound(id string) error {
	return store.Errorf(store.ENotFound, "checkpoint not found with id %s", id)
}

// Change applies ch to the checkpoint with id and returns the checkpoint
// as it was before.
func (h *Checkpoints) Change(ctx context.Context, actor policy.Principal, rawID string, ch CheckpointChange) (store.Checkpoint, ChangeOutcome, error) {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return store.Checkpoint{}, Unchanged, CheckpointNotFound(rawID)
	}
	if err := h.policy.Require(actor, policy.CheckpointCreate); err != nil {
		return store.Checkpoint{}, Unchanged, err
	}
	var prev store.Checkpoint
	outcome := Unchanged
	completes := false
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		c, err := h.checkpointForWrite(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		prev = c
		switch {
		case ch.Status != nil:
			outcome = StatusChanged
			completes, err = h.changeStatus(ctx, tx, c, *ch.Status, ch.Tags)
			return err
		case ch.Name != nil:
			outcome, err = h.rename(ctx, tx, c, *ch.Name)
			return err
		}
		return nil
	})
	if err == nil && completes {
		err = h.complete(ctx, prev, ch.Tags)
	}
	if err == nil && outcome != Unchanged {
		err = h.audit(ctx, actor, "checkpoint.update", id.String())
	}
	return prev, outcome, err
}

func (h *Checkpoints) audit(ctx context.Context, actor policy.Principal, action, target string) error {
	return store.Audit(ctx, h.store.DB(), actor.Name(), action, target, "")
}

// completionStale is how long a completion may be in progress before
// another attempt may take over (the first one died).
const completionStale = 30 * time.Minute

// changeStatus sets status, or, when it leaves Initial for Active, checks
// the client's part lists and marks the checkpoint as being completed
// (completes=true): the caller then completes the uploads after this
// transaction, so no row lock is held while the store assembles them.
func (h *Checkpoints) changeStatus(ctx context.Context, tx pgx.Tx, c store.Checkpoint, status string, tags map[string][]PartTag) (completes bool, err error) {
	if !slices.Contains(settableStatuses, status) {
		return false, store.Errorf(store.EInvalid, "invalid status %q: want one of %s", status, strings.Join(settableStatuses, ", "))
	}
	now := h.store.Now()
	switch {
	case c.Status == status:
		return false, store.Errorf(store.EInvalid, "checkpoint %s is already %s", c.ID, status)
	case c.Status == store.CheckpointFailed:
		return false, store.Errorf(store.EInvalid, "checkpoint %s failed (%s); delete it and import again", c.ID, c.Error)
	case c.Status == store.CheckpointInitial && len(c.Uploads) == 0:
		return false, store.Errorf(store.EInvalid, "checkpoint %s is still being imported", c.ID)
	case c.Status != store.CheckpointInitial:
		if status == store.CheckpointInitial {
			return false, store.Errorf(store.EInvalid, "checkpoint %s is uploaded already; it cannot become Initial again", c.ID)
		}
		return false, store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Status: &status}, now)
	case status != store.CheckpointActive:
		return false, store.Errorf(store.EInvalid, "checkpoint %s is still uploading; complete it with status Active first", c.ID)
	}
	for _, name := range sortedKeys(c.Uploads) {
		if err := checkParts(name, c.Uploads[name].Parts, tags[name]); err != nil {
			return false, err
		}
	}
	return true, store.BeginCompletion(ctx, tx, c.ID, now, completionStale)
}

// complete completes every open upload of c in the store, then records
// the outcome: Active with its size (and a job to hash the file), or the
// uploads still open. A completion the store refuses is returned as an
// EInvalid error after the uploads already completed are recorded, so the
// client can retry the rest.
func (h *Checkpoints) complete(ctx context.Context, c store.Checkpoint, tags map[string][]PartTag) error {
	remaining := maps.Clone(c.Uploads)
	var size int64
	var failure, storeErr error
	for _, name := range sortedKeys(c.Uploads) {
		u := c.Uploads[name]
		parts := make([]blob.Part, len(tags[name]))
		for i, t := range tags[name] {
			parts[i] = blob.Part{Number: int32(t.PartNumber), ETag: t.ETag}
		}
		if _, err := h.blob.CompleteMultipartUpload(ctx, u.Key, u.UploadID, parts); err != nil {
			if blob.IsInvalidPart(err) || blob.IsNotFound(err) {
				failure = store.Errorf(store.EInvalid, "upload of %s could not be completed: the store refused the parts (wrong or missing ETags?)", name)
			} else {
				storeErr = err
			}
			break
		}
		delete(remaining, name)
		n, err := h.blob.Head(ctx, u.Key)
		if err != nil {
			storeErr = err
			break
		}
		size += n
	}
	deleted := false
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.LockCheckpoint(ctx, tx, c.ID); errors.Is(err, store.ErrNotFound) {
			// Deleted meanwhile: its clean-up may have run before the
			// store made the files, so clean up again.
			deleted = true
			prefix, _ := h.location(c.Type, c.ID)
			_, err := h.jobs.InsertTx(ctx, tx, jobs.DeletePrefixArgs{Prefix: prefix + "/"}, nil)
			return err
		} else if err != nil {
			return err
		}
		if err := store.EndCompletion(ctx, tx, c.ID); err != nil {
			return err
		}
		now := h.store.Now()
		if failure != nil || storeErr != nil {
			return store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Uploads: remaining}, now)
		}
		active := store.CheckpointActive
		err := store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Status: &active,
			Uploads: map[string]store.Upload{}, Size: &size, ProgressBytes: &size, TotalBytes: &size}, now)
		if err != nil {
			return err
		}
		_, err = h.jobs.InsertTx(ctx, tx, jobs.ChecksumArgs{CheckpointID: c.ID}, nil)
		return err
	})
	switch {
	case err != nil:
		return err
	case deleted:
		return CheckpointNotFound(c.ID.String())
	case storeErr != nil:
		return storeErr
	}
	return failure
}

// checkParts requires exactly parts 1..n, each with an ETag.
func checkParts(name string, n int, tags []PartTag) error {
	if len(tags) == 0 {
		return store.Errorf(store.EInvalid, "multi parts tags has no parts for %s", name)
	}
	seen := map[int]bool{}
	for _, t := range tags {
		switch {
		case t.ETag == "":
			return store.Errorf(store.EInvalid, "part %d of %s has no ETag", t.PartNumber, name)
		case t.PartNumber < 1 || (n > 0 && t.PartNumber > n):
			return store.Errorf(store.EInvalid, "part number %d of %s is out of range 1..%d", t.PartNumber, name, max(n, 1))
		case seen[t.PartNumber]:
			return store.Errorf(store.EInvalid, "part %d of %s is listed twice", t.PartNumber, name)
		}
		seen[t.PartNumber] = true
	}
	for p := 1; p <= n; p++ {
		if !seen[p] {
			return store.Errorf(store.EInvalid, "part %d of %d of %s is missing from multi parts tags", p, n, name)
		}
	}
	return nil
}

// rename gives an Active checkpoint a new name; a job moves the object.
func (h *Checkpoints) rename(ctx context.Context, tx pgx.Tx, c store.Checkpoint, name string) (ChangeOutcome, error) {
	if c.Status != store.CheckpointActive {
		return Unchanged, store.Errorf(store.EInvalid, "only active can update name")
	}
	if len(c.Names) > 0 && c.Names[0] == name {
		return NameUnchanged, nil
	}
	if err := checkFilename(name); err != nil {
		return Unchanged, err
	}
	names := append([]string{name}, c.Names[1:]...)
	if err := store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Names: names}, h.store.Now()); err != nil {
		return Unchanged, err
	}
	prefix := h.folderOf(c) // a trained LoRA's folder is its training's
	args := jobs.RenameArgs{From: prefix + "/" + c.Names[0], To: prefix + "/" + name}
	if _, err := h.jobs.InsertTx(ctx, tx, args, nil); err != nil {
		return Unchanged, fmt.Errorf("enqueue rename: %w", err)
	}
	return RenameStarted, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
