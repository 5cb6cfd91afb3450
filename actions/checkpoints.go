package actions

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/blob"
	"easel/internal/logx"
	"easel/jobs"
	"easel/netguard"
	"easel/policy"
	"easel/store"
)

// Checkpoints manages the model library: the actions shared by the API and
// the console.
type Checkpoints struct {
	store  *store.Store
	policy *policy.Policy
	blob   *blob.Client
	jobs   JobInserter
	urls   netguard.Policy
	log    *slog.Logger
}

// NewCheckpoints returns the checkpoints actions.
func NewCheckpoints(s *store.Store, p *policy.Policy, b *blob.Client, j JobInserter, urls netguard.Policy, log *slog.Logger) *Checkpoints {
	return &Checkpoints{store: s, policy: p, blob: b, jobs: j, urls: urls, log: log}
}

// PresignTTL is how long presigned part URLs stay valid.
const PresignTTL = time.Hour

// importExtensions are the file kinds a URL import accepts.
var importExtensions = []string{".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".yaml"}

// FileInput names one file of an upload and its number of parts.
type FileInput struct {
	Filename    string `json:"filename"`
	PartsNumber int    `json:"parts_number"`
}

// CheckpointInput creates checkpoints from uploads (Files) or URLs.
type CheckpointInput struct {
	Type    string      `json:"checkpoint_type"`
	Files   []FileInput `json:"filenames"`
	URLs    []string    `json:"urls"`
	Message string      `json:"-"`
}

// CreatedUpload is a new checkpoint with the presigned part URLs per file.
type CreatedUpload struct {
	Checkpoint store.Checkpoint
	PartURLs   map[string][]string
}

// checkFilename returns a user-facing reason when name cannot be a file name.
func checkFilename(name string) error {
	switch {
	case name == "":
		return store.FieldError("filename", "file name is empty")
	case len(name) > 255:
		return store.FieldError("filename", "file name %q is longer than 255 bytes", name[:40]+"…")
	case name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00"):
		return store.FieldError("filename", "file name %q must not contain path separators or be . or ..", name)
	}
	return nil
}

func checkType(t string) error {
	if !slices.Contains(store.CheckpointTypes, t) {
		return store.FieldError("checkpoint_type", "unknown checkpoint type %q (known: %s)", t, strings.Join(store.CheckpointTypes, ", "))
	}
	return nil
}

// Viewer returns whose visibility applies to actor: nil (everything) for
// the service principal and holders of user:all (ESD's rule).
func (h *Checkpoints) Viewer(ctx context.Context, actor policy.Principal) (*store.Viewer, error) {
	return checkpointViewer(ctx, h.store, h.policy, actor)
}

// checkpointViewer is the one rule for which checkpoints actor may see,
// shared by the model list and the models an inference may use.
func checkpointViewer(ctx context.Context, s *store.Store, p *policy.Policy, actor policy.Principal) (*store.Viewer, error) {
	if actor.Service || p.Can(actor, policy.UserAll) {
		return nil, nil
	}
	u, err := store.FindUser(ctx, s.DB(), actor.Username)
	if err != nil {
		return nil, err
	}
	return &store.Viewer{Username: u.Username, Roles: u.Roles}, nil
}

// location is the s3:// prefix of a checkpoint's files.
func (h *Checkpoints) location(typ string, id uuid.UUID) (prefix, s3 string) {
	prefix = fmt.Sprintf("%s/checkpoint/custom/%s", typ, id)
	return prefix, fmt.Sprintf("s3://%s/%s", h.blob.Bucket, prefix)
}

// rolesOf returns the roles of the acting user, which a new checkpoint is
// shared with.
func (h *Checkpoints) rolesOf(ctx context.Context, actor policy.Principal) ([]string, error) {
	if actor.Username == "" {
		return []string{}, nil
	}
	u, err := store.FindUser(ctx, h.store.DB(), actor.Username)
	if err != nil {
		return nil, err
	}
	return u.Roles, nil
}

// Upload creates one checkpoint for in.Files: a multipart upload per file
// and its presigned part URLs. Identity and permission are decided before
// any upload starts; a failure aborts the uploads already started.
func (h *Checkpoints) Upload(ctx context.Context, actor policy.Principal, in CheckpointInput) (CreatedUpload, error) {
	if err := h.policy.Require(actor, policy.CheckpointCreate); err != nil {
		return CreatedUpload{}, err
	}
	if err := checkType(in.Type); err != nil {
		return CreatedUpload{}, err
	}
	names := make([]string, len(in.Files))
	for i, f := range in.Files {
		if err := checkFilename(f.Filename); err != nil {
			return CreatedUpload{}, err
		}
		if f.PartsNumber < 1 || f.PartsNumber > 100 {
			return CreatedUpload{}, store.FieldError("parts_number", "parts_number of %s must be 1 to 100, not %d", f.Filename, f.PartsNumber)
		}
		names[i] = f.Filename
	}
	if err := h.NamesFree(ctx, names); err != nil {
		return CreatedUpload{}, err
	}
	roles, err := h.rolesOf(ctx, actor)
	if err != nil {
		return CreatedUpload{}, err
	}
	id := uuid.New()
	prefix, s3 := h.location(in.Type, id)
	c := store.Checkpoint{ID: id, Type: in.Type, Status: store.CheckpointInitial, S3Location: s3, Names: names,
		AllowedRoles: roles, Creator: actor.Name(), Message: in.Message, Uploads: map[string]store.Upload{},
		CreatedAt: h.store.Now()}
	out := CreatedUpload{Checkpoint: c, PartURLs: map[string][]string{}}
	abort := func() {
		for _, u := range c.Uploads {
			if err := h.blob.AbortMultipartUpload(context.WithoutCancel(ctx), u.Key, u.UploadID); err != nil {
				logx.For(ctx, h.log).Warn("abort upload after failed create", "key", u.Key, "error", err)
			}
		}
	}
	for _, f := range in.Files {
		key := prefix + "/" + f.Filename
		uploadID, err := h.blob.CreateMultipartUpload(ctx, key)
		if err != nil {
			abort()
			return CreatedUpload{}, err
		}
		c.Uploads[f.Filename] = store.Upload{UploadID: uploadID, Bucket: h.blob.Bucket, Key: key, Parts: f.PartsNumber}
		urls := make([]string, f.PartsNumber)
		for p := range urls {
			if urls[p], err = h.blob.PresignUploadPart(ctx, key, uploadID, int32(p+1), PresignTTL); err != nil {
				abort()
				return CreatedUpload{}, err
			}
		}
		out.PartURLs[f.Filename] = urls
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.CreateCheckpoint(ctx, tx, c); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "checkpoint.upload", id.String(), strings.Join(names, ","))
	})
	if err != nil {
		abort()
		return CreatedUpload{}, err
	}
	out.Checkpoint = c
	return out, nil
}

// NamesFree fails with ESD's text when a name repeats or is in use.
func (h *Checkpoints) NamesFree(ctx context.Context, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return store.NameTakenError(n)
		}
		seen[n] = true
		taken, err := store.NameTaken(ctx, h.store.DB(), n)
		if err != nil {
			return err
		}
		if taken {
			return store.NameTakenError(n)
		}
	}
	return nil
}

// Import creates one checkpoint per URL and a background job that streams
// each download into the store. Every URL is checked before anything is
// stored.
func (h *Checkpoints) Import(ctx context.Context, actor policy.Principal, in CheckpointInput) ([]store.Checkpoint, error) {
	if err := h.policy.Require(actor, policy.CheckpointCreate); err != nil {
		return nil, err
	}
	if err := checkType(in.Type); err != nil {
		return nil, err
	}
	urls := dedupe(in.URLs)
	names := make([]string, len(urls))
	for i, raw := range urls {
		u, err := h.urls.CheckURL(raw)
		if err != nil {
			return nil, store.FieldError("urls", "%s", err.Error())
		}
		name := path.Base(u.Path)
		if name == "/" || name == "." || checkFilename(name) != nil {
			return nil, store.FieldError("urls", "cannot tell the file name from %s", redactURL(raw))
		}
		if !slices.Contains(importExtensions, strings.ToLower(path.Ext(name))) {
			return nil, store.FieldError("urls", "%s is not a model file: the name must end in %s", name, strings.Join(importExtensions, ", "))
		}
		names[i] = name
	}
	if err := h.NamesFree(ctx, names); err != nil {
		return nil, err
	}
	roles, err := h.rolesOf(ctx, actor)
	if err != nil {
		return nil, err
	}
	var created []store.Checkpoint
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		for i, raw := range urls {
			id := uuid.New()
			_, s3 := h.location(in.Type, id)
			c := store.Checkpoint{ID: id, Type: in.Type, Status: store.CheckpointInitial, S3Location: s3,
				Names: []string{names[i]}, AllowedRoles: roles, Creator: actor.Name(), Message: in.Message,
				SourceURL: raw, CreatedAt: h.store.Now()}
			if err := store.CreateCheckpoint(ctx, tx, c); err != nil {
				return err
			}
			if _, err := h.jobs.InsertTx(ctx, tx, jobs.ImportArgs{CheckpointID: id}, nil); err != nil {
				return fmt.Errorf("enqueue import: %w", err)
			}
			if err := store.Audit(ctx, tx, actor.Name(), "checkpoint.import", id.String(), redactURL(raw)); err != nil {
				return err
			}
			created = append(created, c)
		}
		return nil
	})
	return created, err
}

// redactURL drops credentials from a URL before it is shown or logged.
func redactURL(raw string) string { return jobs.RedactURL(raw) }
