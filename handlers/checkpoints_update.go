package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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

// ChangeOutcome says what Change did, for the API's answer.
type ChangeOutcome int

// Outcomes of Change.
const (
	Unchanged     ChangeOutcome = iota // nothing asked
	StatusChanged                      // 200 with the previous state
	NameUnchanged                      // 200 "no need to update"
	RenameStarted                      // 202 "rename is processing, please wait"
)

// settableStatuses are the statuses a client may set.
var settableStatuses = []string{store.CheckpointInitial, store.CheckpointActive, store.CheckpointDisabled}

// checkpointForWrite returns the checkpoint with id locked, if actor may
// see it (else ErrNotFound in ESD's words) and change it (its creator, or
// checkpoint:all).
func (h *Checkpoints) checkpointForWrite(ctx context.Context, tx pgx.Tx, actor policy.Principal, id uuid.UUID) (store.Checkpoint, error) {
	c, err := store.LockCheckpoint(ctx, tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, checkpointNotFound(id.String())
	}
	if err != nil {
		return c, err
	}
	v, err := h.viewer(ctx, actor)
	if err != nil {
		return c, err
	}
	if v != nil && !visible(c.AllowedRoles, *v) {
		return c, checkpointNotFound(id.String())
	}
	if c.Creator != actor.Name() && !h.policy.Can(actor, "checkpoint:all") {
		return c, policy.Denied(actor, "checkpoint:all")
	}
	return c, nil
}

func checkpointNotFound(id string) error {
	return store.Errorf(store.ENotFound, "checkpoint not found with id %s", id)
}

// visible is ESD's rule (reference §3.4), for one row already loaded.
func visible(owners []string, v store.Viewer) bool {
	if len(owners) == 0 || slices.Contains(owners, "*") || slices.Contains(owners, v.Username) {
		return true
	}
	return slices.ContainsFunc(owners, func(o string) bool { return slices.Contains(v.Roles, o) })
}

// Change applies ch to the checkpoint with id and returns the checkpoint
// as it was before.
func (h *Checkpoints) Change(ctx context.Context, actor policy.Principal, rawID string, ch CheckpointChange) (store.Checkpoint, ChangeOutcome, error) {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return store.Checkpoint{}, Unchanged, checkpointNotFound(rawID)
	}
	if err := h.policy.Require(actor, "checkpoint:create"); err != nil {
		return store.Checkpoint{}, Unchanged, err
	}
	var prev store.Checkpoint
	outcome := Unchanged
	var failure error
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		c, err := h.checkpointForWrite(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		prev = c
		switch {
		case ch.Status != nil:
			outcome = StatusChanged
			failure, err = h.changeStatus(ctx, tx, c, *ch.Status, ch.Tags)
			return err
		case ch.Name != nil:
			outcome, err = h.rename(ctx, tx, c, *ch.Name)
			return err
		}
		return nil
	})
	if err == nil {
		err = failure
	}
	if err == nil && outcome != Unchanged {
		err = h.audit(ctx, actor, "checkpoint.update", id.String())
	}
	return prev, outcome, err
}

func (h *Checkpoints) audit(ctx context.Context, actor policy.Principal, action, target string) error {
	return store.Audit(ctx, h.store.Pool, actor.Name(), action, target, "")
}

// changeStatus sets status; leaving Initial completes every open upload
// from the client's part list. A completion S3 refuses is returned as
// failure while the uploads already completed are recorded, so the client
// can retry the rest.
func (h *Checkpoints) changeStatus(ctx context.Context, tx pgx.Tx, c store.Checkpoint, status string, tags map[string][]PartTag) (failure, err error) {
	if len(tags) == 0 {
		return nil, store.Errorf(store.EInvalid, "multi parts tags is empty")
	}
	if !slices.Contains(settableStatuses, status) {
		return nil, store.Errorf(store.EInvalid, "invalid status %q: want one of %s", status, strings.Join(settableStatuses, ", "))
	}
	now := h.store.Now()
	switch {
	case c.Status == status:
		return nil, store.Errorf(store.EInvalid, "checkpoint %s is already %s", c.ID, status)
	case c.Status == store.CheckpointFailed:
		return nil, store.Errorf(store.EInvalid, "checkpoint %s failed (%s); delete it and import again", c.ID, c.Error)
	case c.Status == store.CheckpointInitial && len(c.Uploads) == 0:
		return nil, store.Errorf(store.EInvalid, "checkpoint %s is still being imported", c.ID)
	case c.Status != store.CheckpointInitial:
		if status == store.CheckpointInitial {
			return nil, store.Errorf(store.EInvalid, "checkpoint %s is uploaded already; it cannot become Initial again", c.ID)
		}
		return nil, store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Status: &status}, now)
	case status != store.CheckpointActive:
		return nil, store.Errorf(store.EInvalid, "checkpoint %s is still uploading; complete it with status Active first", c.ID)
	}
	for _, name := range sortedKeys(c.Uploads) {
		if err := checkParts(name, c.Uploads[name].Parts, tags[name]); err != nil {
			return nil, err
		}
	}
	remaining := maps.Clone(c.Uploads)
	var size int64
	for _, name := range sortedKeys(c.Uploads) {
		u := c.Uploads[name]
		parts := make([]blob.Part, len(tags[name]))
		for i, t := range tags[name] {
			parts[i] = blob.Part{Number: int32(t.PartNumber), ETag: t.ETag}
		}
		if _, err := h.blob.CompleteMultipartUpload(ctx, u.Key, u.UploadID, parts); err != nil {
			if blob.IsInvalidPart(err) || blob.IsNotFound(err) {
				failure = store.Errorf(store.EInvalid, "upload of %s could not be completed: the store refused the parts (wrong or missing ETags?)", name)
				break
			}
			return nil, err
		}
		delete(remaining, name)
		n, err := h.blob.Head(ctx, u.Key)
		if err != nil {
			return nil, err
		}
		size += n
	}
	if failure != nil {
		return failure, store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Uploads: remaining}, now)
	}
	return nil, store.UpdateCheckpoint(ctx, tx, c.ID, store.CheckpointUpdate{Status: &status,
		Uploads: map[string]store.Upload{}, Size: &size, ProgressBytes: &size, TotalBytes: &size}, now)
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
	prefix, _ := h.location(c.Type, c.ID)
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
