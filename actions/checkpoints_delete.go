package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// Delete removes checkpoints, all or none: rows and names at once, their
// objects and open uploads by a job in the same transaction. Ids that are
// unknown, malformed or invisible to actor are skipped.
func (h *Checkpoints) Delete(ctx context.Context, actor policy.Principal, rawIDs []string) error {
	if err := h.policy.Require(actor, policy.CheckpointCreate); err != nil {
		return err
	}
	var ids []uuid.UUID
	for _, raw := range dedupe(rawIDs) {
		if id, err := uuid.Parse(raw); err == nil {
			ids = append(ids, id)
		}
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		var mine []uuid.UUID
		for _, id := range ids {
			_, err := h.checkpointForWrite(ctx, tx, actor, id)
			if store.ErrorCode(err) == store.ENotFound {
				continue
			}
			if err != nil {
				return err
			}
			mine = append(mine, id)
		}
		deleted, err := store.DeleteCheckpoints(ctx, tx, mine)
		if err != nil {
			return err
		}
		for _, c := range deleted {
			if _, err := h.jobs.InsertTx(ctx, tx, h.deleteFiles(c), nil); err != nil {
				return fmt.Errorf("enqueue delete: %w", err)
			}
			if err := store.Audit(ctx, tx, actor.Name(), "checkpoint.delete", c.ID.String(), strings.Join(c.Names, ",")); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteFiles is the job that removes c's files: its folder with open
// uploads, or only <s3_location>/<name> when the folder is shared (a
// training's LoRAs live in the training's output folder).
func (h *Checkpoints) deleteFiles(c store.Checkpoint) river.JobArgs {
	prefix, own := h.location(c.Type, c.ID)
	if c.S3Location == own {
		return jobs.DeletePrefixArgs{Prefix: prefix + "/"}
	}
	if !strings.HasPrefix(c.S3Location, "s3://"+h.blob.Bucket+"/") {
		return jobs.DeleteObjectsArgs{} // not in our bucket: nothing of ours to remove
	}
	keys := make([]string, len(c.Names))
	for i, n := range c.Names {
		keys[i] = h.folderOf(c) + "/" + n
	}
	return jobs.DeleteObjectsArgs{Keys: keys}
}

// folderOf is the key prefix of c's files (no trailing slash).
func (h *Checkpoints) folderOf(c store.Checkpoint) string {
	return strings.TrimPrefix(c.S3Location, "s3://"+h.blob.Bucket+"/")
}

// Share sets which roles may use a checkpoint (its creator, or
// checkpoint:all). Every role must exist; none means everyone ("*" is
// ESD's explicit "everyone").
func (h *Checkpoints) Share(ctx context.Context, actor policy.Principal, rawID string, roles []string) error {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return CheckpointNotFound(rawID)
	}
	if err := h.policy.Require(actor, policy.CheckpointCreate); err != nil {
		return err
	}
	roles = dedupe(roles)
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := h.checkpointForWrite(ctx, tx, actor, id); err != nil {
			return err
		}
		missing, err := store.MissingRoles(ctx, tx, slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return r == "*" }))
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return store.FieldError("roles", "role %q does not exist", missing[0])
		}
		if err := store.UpdateCheckpoint(ctx, tx, id, store.CheckpointUpdate{AllowedRoles: roles}, h.store.Now()); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "checkpoint.share", id.String(), strings.Join(roles, ","))
	})
}
