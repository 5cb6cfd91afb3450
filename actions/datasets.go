package actions

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"easel/blob"
	"easel/policy"
	"easel/store"
)

// Datasets manages training data sets: named folders of images and
// captions that clients upload straight to the object store.
type Datasets struct {
	store  *store.Store
	policy *policy.Policy
	blob   *blob.Client
	jobs   JobInserter
	log    *slog.Logger
}

// NewDatasets returns the dataset actions.
func NewDatasets(s *store.Store, p *policy.Policy, b *blob.Client, j JobInserter, log *slog.Logger) *Datasets {
	return &Datasets{store: s, policy: p, blob: b, jobs: j, log: log}
}

// How long the presigned URLs of datasets stay valid (ESD's).
const (
	DatasetUploadTTL  = 7 * 24 * time.Hour
	DatasetPreviewTTL = 24 * time.Hour
	// ThumbnailTTL is how long the console's thumbnail links last.
	ThumbnailTTL = time.Hour
)

// Limits of POST /datasets (ESD 1.6.0's model).
const (
	MaxDatasetFiles   = 500
	MaxDatasetNameLen = 20
)

// DatasetNamePattern is ESD's dataset name rule.
var DatasetNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// DatasetNotFound is ESD's 404 text.
func DatasetNotFound(name string) error {
	return store.Errorf(store.ENotFound, "dataset %s is not found", name)
}

// errDatasetHidden is ESD's 403 for a dataset the caller may not see.
var errDatasetHidden = store.Errorf(store.EForbidden, "no permission to view dataset")

// Viewer returns whose visibility applies to actor: nil (everything) for
// the service principal and holders of user:all.
func (h *Datasets) Viewer(ctx context.Context, actor policy.Principal) (*store.Viewer, error) {
	return checkpointViewer(ctx, h.store, h.policy, actor)
}

// MayModify reports whether actor may replace or delete d: train:create
// and d's creator, or train:all. The console shows buttons by this rule.
func (h *Datasets) MayModify(actor policy.Principal, d store.Dataset) bool {
	return h.policy.Can(actor, policy.TrainCreate) && (d.Creator == actor.Name() || h.policy.Can(actor, policy.TrainAll))
}

// CanWrite reports whether actor may create datasets, set their status
// and crop them.
func (h *Datasets) CanWrite(actor policy.Principal) bool {
	return h.policy.Can(actor, policy.TrainCreate)
}

// Get returns the dataset called name and its files: 404 when unknown,
// 403 when actor may not see it.
func (h *Datasets) Get(ctx context.Context, actor policy.Principal, name string) (store.Dataset, []store.DatasetFile, error) {
	if err := h.policy.Require(actor, policy.TrainList); err != nil {
		return store.Dataset{}, nil, err
	}
	d, err := h.visible(ctx, h.store.DB(), actor, name, false)
	if err != nil {
		return d, nil, err
	}
	files, err := store.DatasetFiles(ctx, h.store.DB(), name)
	return d, files, err
}

// visible returns the dataset called name if actor may see it.
func (h *Datasets) visible(ctx context.Context, db store.DBTX, actor policy.Principal, name string, lock bool) (store.Dataset, error) {
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return store.Dataset{}, err
	}
	d, ok, err := store.FindVisibleDataset(ctx, db, v, name, lock)
	switch {
	case store.ErrorCode(err) == store.ENotFound:
		return d, DatasetNotFound(name)
	case err != nil:
		return d, err
	case !ok:
		return d, errDatasetHidden
	}
	return d, nil
}

// PreviewURL is ESD's preview_url of a file: a presigned GET (24 h) of
// dataset/<name>[/<prefix>]/<record name>.
func (h *Datasets) PreviewURL(ctx context.Context, f store.DatasetFile) (string, error) {
	return h.blob.PresignGet(ctx, f.PreviewKey, DatasetPreviewTTL)
}

// ThumbnailURL is a presigned GET of the file's thumbnail, "" when it has
// none (yet).
func (h *Datasets) ThumbnailURL(ctx context.Context, f store.DatasetFile) (string, error) {
	if f.Thumbnail == "" {
		return "", nil
	}
	return h.blob.PresignGet(ctx, f.Thumbnail, ThumbnailTTL)
}

// S3URL is the s3:// address of the dataset's folder (prefix included).
func (h *Datasets) S3URL(d store.Dataset) string {
	return "s3://" + h.blob.Bucket + "/" + d.Folder()
}

// checkDatasetName refuses names outside ESD's pattern and length.
func checkDatasetName(name string) error {
	if name == "" || len(name) > MaxDatasetNameLen || !DatasetNamePattern.MatchString(name) {
		return store.FieldError("dataset_name", "dataset name %q must start with a letter, hold only letters, digits, _ and -, and be at most %d characters", name, MaxDatasetNameLen)
	}
	return nil
}

// checkPrefix refuses a prefix that could leave the dataset's folder.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "\\\x00") || strings.HasSuffix(prefix, "/") {
		return store.FieldError("prefix", "prefix %q must be a relative folder such as 10_concept (no leading or trailing /, no \\)", prefix)
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return store.FieldError("prefix", "prefix %q must not contain empty, . or .. parts", prefix)
		}
	}
	return nil
}
