package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Checkpoint statuses. Failed is ours: a URL import that did not finish.
const (
	CheckpointInitial  = "Initial"
	CheckpointActive   = "Active"
	CheckpointDisabled = "Disabled"
	CheckpointFailed   = "Failed"
)

// CheckpointTypes are the model kinds a checkpoint may be.
var CheckpointTypes = []string{"Stable-diffusion", "embeddings", "Lora", "hypernetworks", "ControlNet", "VAE"}

// Upload is one file's open multipart upload.
type Upload struct {
	UploadID string `json:"upload_id"`
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	// Parts is the number of parts the client announced.
	Parts int `json:"parts_number,omitempty"`
}

// Checkpoint is a model file (or files) in the library.
type Checkpoint struct {
	ID           uuid.UUID
	Type         string
	Status       string
	S3Location   string // s3://bucket/<type>/checkpoint/custom/<id>
	Names        []string
	AllowedRoles []string // ESD's allowed_roles_or_users
	Creator      string
	Message      string
	SourceURL    string
	// Uploads holds the open multipart upload of each file while Initial.
	Uploads       map[string]Upload
	Size          *int64
	SHA256        string
	ProgressBytes int64
	TotalBytes    *int64
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// ModelInfo is what the file says about itself (modelfile.Info as
	// JSON), nil until read; Unsafe marks a pickle that imports
	// UnsafeGlobals or could not be read (SaveModelInfo).
	ModelInfo     []byte
	Unsafe        bool
	UnsafeGlobals []string
}

// CheckpointFilter narrows ListCheckpoints. Zero values mean "no restriction".
type CheckpointFilter struct {
	Statuses []string
	Types    []string
	// Roles keeps checkpoints shared with any of these roles.
	Roles []string
	// Search keeps checkpoints with a name containing this text.
	Search string
	// VisibleTo applies ESD's visibility rule for this user and its roles
	// (owners empty or "*", the user, or a shared role); nil sees all.
	VisibleTo *Viewer
	Limit     int
	Offset    int
}

// Viewer is a user and its roles, for visibility rules.
type Viewer struct {
	Username string
	Roles    []string
}

const checkpointColumns = `c.id, c.type, c.status, c.s3_location, c.names, c.allowed_roles, c.creator,
	c.message, c.source_url, c.uploads, c.size_bytes, c.sha256, c.progress_bytes, c.total_bytes, c.error,
	c.created_at, c.updated_at,
	c.model_info, c.unsafe, c.unsafe_globals`

func scanCheckpoint(row interface{ Scan(...any) error }) (Checkpoint, error) {
	var c Checkpoint
	var uploads []byte
	err := row.Scan(&c.ID, &c.Type, &c.Status, &c.S3Location, &c.Names, &c.AllowedRoles, &c.Creator,
		&c.Message, &c.SourceURL, &uploads, &c.Size, &c.SHA256, &c.ProgressBytes, &c.TotalBytes, &c.Error,
		&c.CreatedAt, &c.UpdatedAt,
		&c.ModelInfo, &c.Unsafe, &c.UnsafeGlobals)
	if err == nil {
		err = json.Unmarshal(uploads, &c.Uploads)
	}
	return c, err
}

var checkpointWhere = `WHERE ` + visibleTo("c.allowed_roles") + `
	AND (cardinality($4::text[]) = 0 OR c.status = ANY ($4))
	AND (cardinality($5::text[]) = 0 OR c.type = ANY ($5))
	AND (cardinality($6::text[]) = 0 OR c.allowed_roles && $6::text[])
	AND ($7 = '' OR EXISTS (SELECT 1 FROM unnest(c.names) n WHERE strpos(lower(n), lower($7)) > 0))`

func checkpointArgs(f CheckpointFilter) []any {
	return append(viewerArgs(f.VisibleTo), nonNil(f.Statuses), nonNil(f.Types), nonNil(f.Roles), f.Search)
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// ListCheckpoints returns one page of the checkpoints matching f, newest
// first, and the total number matching.
func ListCheckpoints(ctx context.Context, db DBTX, f CheckpointFilter) ([]Checkpoint, int, error) {
	args := checkpointArgs(f)
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM checkpoints c `+checkpointWhere, args...).Scan(&total); err != nil {
		return nil, 0, translate("count checkpoints", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := db.Query(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c `+checkpointWhere+`
		ORDER BY c.created_at DESC, c.id DESC LIMIT $8 OFFSET $9`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, translate("list checkpoints", err)
	}
	defer rows.Close()
	out := []Checkpoint{}
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, 0, translate("list checkpoints", err)
		}
		out = append(out, c)
	}
	return out, total, translate("list checkpoints", rows.Err())
}

// FindCheckpoint returns the checkpoint with id, or ErrNotFound.
func FindCheckpoint(ctx context.Context, db DBTX, id uuid.UUID) (Checkpoint, error) {
	c, err := scanCheckpoint(db.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c WHERE c.id = $1`, id))
	return c, translate("find checkpoint", err)
}

// FindVisibleCheckpoint returns the checkpoint with id if v may see it (nil
// sees all); one it may not see is ErrNotFound, like a missing one. With
// lock, the row is held until the transaction ends.
func FindVisibleCheckpoint(ctx context.Context, db DBTX, v *Viewer, id uuid.UUID, lock bool) (Checkpoint, error) {
	sql := `SELECT ` + checkpointColumns + ` FROM checkpoints c WHERE ` + visibleTo("c.allowed_roles") + ` AND c.id = $4`
	if lock {
		sql += ` FOR UPDATE`
	}
	c, err := scanCheckpoint(db.QueryRow(ctx, sql, append(viewerArgs(v), id)...))
	return c, translate("find checkpoint", err)
}

// LockCheckpoint is FindCheckpoint holding the row until the transaction ends.
func LockCheckpoint(ctx context.Context, db DBTX, id uuid.UUID) (Checkpoint, error) {
	c, err := scanCheckpoint(db.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c WHERE c.id = $1 FOR UPDATE`, id))
	return c, translate("lock checkpoint", err)
}

// CreateCheckpoint inserts c and claims its names; a name in use gives a
// 400-class error in ESD's wording.
func CreateCheckpoint(ctx context.Context, db DBTX, c Checkpoint) error {
	uploads, _ := json.Marshal(nonNilUploads(c.Uploads))
	_, err := db.Exec(ctx, `
		INSERT INTO checkpoints (id, type, status, s3_location, names, allowed_roles, creator, message,
			source_url, uploads, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
		c.ID, c.Type, c.Status, c.S3Location, c.Names, nonNil(c.AllowedRoles), c.Creator, c.Message,
		c.SourceURL, uploads, c.CreatedAt)
	if err != nil {
		return translate("create checkpoint", err)
	}
	return claimNames(ctx, db, c.ID, c.Names)
}

func claimNames(ctx context.Context, db DBTX, id uuid.UUID, names []string) error {
	for _, n := range names {
		_, err := db.Exec(ctx, `INSERT INTO checkpoint_names (name, checkpoint_id) VALUES ($1, $2)`, n, id)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return NameTakenError(n)
		}
		if err != nil {
			return translate("claim checkpoint name", err)
		}
	}
	return nil
}

// NameTakenError is ESD's text for a name clash.
func NameTakenError(name string) error {
	return Errorf(EInvalid, "%s already exists, please use another or rename/delete exists", name)
}

// NameTaken reports whether a checkpoint uses name.
func NameTaken(ctx context.Context, db DBTX, name string) (bool, error) {
	var taken bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM checkpoint_names WHERE name = $1)`, name).Scan(&taken)
	return taken, translate("name taken", err)
}

func nonNilUploads(u map[string]Upload) map[string]Upload {
	if u == nil {
		return map[string]Upload{}
	}
	return u
}

// CheckpointUpdate changes some fields of a checkpoint; nil leaves a field.
type CheckpointUpdate struct {
	Status        *string
	Names         []string
	Uploads       map[string]Upload
	Size          *int64
	SHA256        *string
	ProgressBytes *int64
	TotalBytes    *int64
	Error         *string
	AllowedRoles  []string
}

// UpdateCheckpoint applies upd to the checkpoint with id.
func UpdateCheckpoint(ctx context.Context, db DBTX, id uuid.UUID, upd CheckpointUpdate, now time.Time) error {
	var uploads []byte
	if upd.Uploads != nil {
		uploads, _ = json.Marshal(upd.Uploads)
	}
	tag, err := db.Exec(ctx, `
		UPDATE checkpoints SET
			status = COALESCE($2, status),
			names = COALESCE($3, names),
			uploads = COALESCE($4::jsonb, uploads),
			size_bytes = COALESCE($5, size_bytes),
			sha256 = COALESCE($6, sha256),
			progress_bytes = COALESCE($7, progress_bytes),
			total_bytes = COALESCE($8, total_bytes),
			error = COALESCE($9, error),
			allowed_roles = COALESCE($10, allowed_roles),
			updated_at = $11
		WHERE id = $1`,
		id, upd.Status, upd.Names, uploads, upd.Size, upd.SHA256, upd.ProgressBytes, upd.TotalBytes,
		upd.Error, upd.AllowedRoles, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	if err != nil {
		return translate("update checkpoint", err)
	}
	if upd.Names != nil {
		if _, err := db.Exec(ctx, `DELETE FROM checkpoint_names WHERE checkpoint_id = $1`, id); err != nil {
			return translate("rename checkpoint", err)
		}
		return claimNames(ctx, db, id, upd.Names)
	}
	return nil
}

// DeleteCheckpoints removes the checkpoints with these ids (their names go
// with them) and returns the deleted rows.
func DeleteCheckpoints(ctx context.Context, db DBTX, ids []uuid.UUID) ([]Checkpoint, error) {
	rows, err := db.Query(ctx, `DELETE FROM checkpoints c WHERE c.id = ANY ($1) RETURNING `+checkpointColumns, ids)
	if err != nil {
		return nil, translate("delete checkpoints", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) { return scanCheckpoint(r) })
	return out, translate("delete checkpoints", err)
}

// AbandonedUploads returns Initial checkpoints with open uploads created
// before cutoff.
func AbandonedUploads(ctx context.Context, db DBTX, cutoff time.Time) ([]Checkpoint, error) {
	rows, err := db.Query(ctx, `SELECT `+checkpointColumns+` FROM checkpoints c
		WHERE c.status = 'Initial' AND c.source_url = '' AND c.created_at < $1`, cutoff)
	if err != nil {
		return nil, translate("abandoned uploads", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) { return scanCheckpoint(r) })
	return out, translate("abandoned uploads", err)
}
