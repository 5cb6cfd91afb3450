package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// Dataset statuses (ESD's spelling, "Initialed" included); files share them.
const (
	DatasetInitialed = "Initialed"
	DatasetEnabled   = "Enabled"
	DatasetDisabled  = "Disabled"
)

// DatasetStatuses are the statuses a dataset or file may have.
var DatasetStatuses = []string{DatasetInitialed, DatasetEnabled, DatasetDisabled}

// Dataset is a named folder of training files (dataset/<name>[/<prefix>]/).
type Dataset struct {
	Name        string
	Prefix      string
	Status      string
	Description string
	Params      map[string]any
	// AllowedRoles is ESD's allowed_roles_or_users: the creator's roles.
	AllowedRoles []string
	Creator      string
	// CroppedFrom is the dataset a crop was made from, "" for uploads.
	CroppedFrom string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Folder is the object key prefix of the dataset's files, without a
// trailing slash: dataset/<name>[/<prefix>].
func (d Dataset) Folder() string { return DatasetFolder(d.Name, d.Prefix) }

// DatasetFolder is dataset/<name>[/<prefix>].
func DatasetFolder(name, prefix string) string {
	if prefix == "" {
		return "dataset/" + name
	}
	return "dataset/" + name + "/" + prefix
}

// DatasetRoot is the prefix under which every object of dataset name lies
// (with the trailing slash, so "a" does not cover "ab").
func DatasetRoot(name string) string { return "dataset/" + name + "/" }

// DatasetFile is one file record of a dataset.
type DatasetFile struct {
	Dataset  string
	Key      string // "<epoch>_<name>"
	Name     string // the record name (also the preview's object name)
	Filename string // the uploaded object's name
	Type     string
	Status   string
	Params   map[string]any
	// Size and SHA256 are filled by a background job once the object is
	// in the store; Thumbnail is the key of its JPEG thumbnail, if any.
	Size      *int64
	SHA256    string
	Thumbnail string
	// ObjectKey is dataset/<name>[/<prefix>]/<filename>.
	ObjectKey string
	// PreviewKey is dataset/<name>[/<prefix>]/<name>, what ESD presigns.
	PreviewKey string
}

const datasetColumns = `d.name, d.prefix, d.status, d.description, d.params, d.allowed_roles, d.creator,
	d.cropped_from, d.created_at, d.updated_at`

func scanDataset(row interface{ Scan(...any) error }) (Dataset, error) {
	var d Dataset
	var params []byte
	err := row.Scan(&d.Name, &d.Prefix, &d.Status, &d.Description, &params, &d.AllowedRoles, &d.Creator,
		&d.CroppedFrom, &d.CreatedAt, &d.UpdatedAt)
	if err == nil {
		err = json.Unmarshal(params, &d.Params)
	}
	return d, err
}

// GetDataset returns the dataset called name, or ErrNotFound.
func GetDataset(ctx context.Context, db DBTX, name string) (Dataset, error) {
	d, err := scanDataset(db.QueryRow(ctx, `SELECT `+datasetColumns+` FROM datasets d WHERE d.name = $1`, name))
	return d, translate("get dataset", err)
}

// DatasetExists reports whether a dataset called name exists.
func DatasetExists(ctx context.Context, db DBTX, name string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM datasets WHERE name = $1)`, name).Scan(&ok)
	return ok, translate("dataset exists", err)
}

// FindVisibleDataset returns the dataset called name if v may see it (nil
// sees all): visible=false when it exists but v may not see it. With lock,
// the row is held until the transaction ends.
func FindVisibleDataset(ctx context.Context, db DBTX, v *Viewer, name string, lock bool) (d Dataset, visible bool, err error) {
	sql := `SELECT ` + datasetColumns + `, ` + visibleTo("d.allowed_roles") + ` FROM datasets d WHERE d.name = $4`
	if lock {
		sql += ` FOR UPDATE`
	}
	var params []byte
	err = db.QueryRow(ctx, sql, append(viewerArgs(v), name)...).Scan(&d.Name, &d.Prefix, &d.Status,
		&d.Description, &params, &d.AllowedRoles, &d.Creator, &d.CroppedFrom, &d.CreatedAt, &d.UpdatedAt, &visible)
	if err == nil {
		err = json.Unmarshal(params, &d.Params)
	}
	return d, visible, translate("find dataset", err)
}

const datasetFileColumns = `f.dataset, f.key, f.name, f.filename, f.type, f.status, f.params, f.size_bytes,
	f.sha256, f.thumbnail, d.prefix`

func scanDatasetFile(row interface{ Scan(...any) error }) (DatasetFile, error) {
	var f DatasetFile
	var params []byte
	var prefix string
	err := row.Scan(&f.Dataset, &f.Key, &f.Name, &f.Filename, &f.Type, &f.Status, &params, &f.Size,
		&f.SHA256, &f.Thumbnail, &prefix)
	if err == nil {
		err = json.Unmarshal(params, &f.Params)
	}
	folder := DatasetFolder(f.Dataset, prefix)
	f.ObjectKey, f.PreviewKey = folder+"/"+f.Filename, folder+"/"+f.Name
	return f, err
}

// DatasetFiles returns the file records of dataset name, by key (string
// order, as ESD lists them).
func DatasetFiles(ctx context.Context, db DBTX, name string) ([]DatasetFile, error) {
	rows, err := db.Query(ctx, `SELECT `+datasetFileColumns+` FROM dataset_files f
		JOIN datasets d ON d.name = f.dataset WHERE f.dataset = $1 ORDER BY f.key COLLATE "C"`, name)
	if err != nil {
		return nil, translate("dataset files", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DatasetFile, error) { return scanDatasetFile(r) })
	if out == nil {
		out = []DatasetFile{}
	}
	return out, translate("dataset files", err)
}

// DatasetFileByKey returns one file record of dataset name.
func DatasetFileByKey(ctx context.Context, db DBTX, name, key string) (DatasetFile, error) {
	f, err := scanDatasetFile(db.QueryRow(ctx, `SELECT `+datasetFileColumns+` FROM dataset_files f
		JOIN datasets d ON d.name = f.dataset WHERE f.dataset = $1 AND f.key = $2`, name, key))
	return f, translate("dataset file", err)
}

// CreateDataset inserts d and its files.
func CreateDataset(ctx context.Context, db DBTX, d Dataset, files []DatasetFile) error {
	params, _ := json.Marshal(nonNilParams(d.Params))
	_, err := db.Exec(ctx, `INSERT INTO datasets (name, prefix, status, description, params, allowed_roles,
			creator, cropped_from, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		d.Name, d.Prefix, d.Status, d.Description, params, nonNil(d.AllowedRoles), d.Creator, d.CroppedFrom, d.CreatedAt)
	if err != nil {
		return translate("create dataset", err)
	}
	for _, f := range files {
		if err := AddDatasetFile(ctx, db, f); err != nil {
			return err
		}
	}
	return nil
}

// AddDatasetFile inserts (or replaces) one file record.
func AddDatasetFile(ctx context.Context, db DBTX, f DatasetFile) error {
	params, _ := json.Marshal(nonNilParams(f.Params))
	_, err := db.Exec(ctx, `INSERT INTO dataset_files (dataset, key, name, filename, type, status, params)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (dataset, key) DO UPDATE SET name = $3, filename = $4, type = $5, status = $6, params = $7,
			size_bytes = NULL, sha256 = '', thumbnail = ''`,
		f.Dataset, f.Key, f.Name, f.Filename, f.Type, f.Status, params)
	return translate("add dataset file", err)
}

// SetDatasetStatus sets the status of dataset name and of all its files.
func SetDatasetStatus(ctx context.Context, db DBTX, name, status string, now time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE datasets SET status = $2, updated_at = $3 WHERE name = $1`, name, status, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	if err != nil {
		return translate("set dataset status", err)
	}
	_, err = db.Exec(ctx, `UPDATE dataset_files SET status = $2 WHERE dataset = $1`, name, status)
	return translate("set dataset file status", err)
}

// RecordDatasetFile stores what the background job learnt of a file's object.
func RecordDatasetFile(ctx context.Context, db DBTX, name, key string, size int64, sha256, thumbnail string) error {
	_, err := db.Exec(ctx, `UPDATE dataset_files SET size_bytes = $3, sha256 = $4, thumbnail = $5
		WHERE dataset = $1 AND key = $2`, name, key, size, sha256, thumbnail)
	return translate("record dataset file", err)
}

// DeleteDataset removes dataset name and its file records, returning them
// (ErrNotFound when there is none).
func DeleteDataset(ctx context.Context, db DBTX, name string) (Dataset, []DatasetFile, error) {
	files, err := DatasetFiles(ctx, db, name)
	if err != nil {
		return Dataset{}, nil, err
	}
	d, err := scanDataset(db.QueryRow(ctx, `DELETE FROM datasets d WHERE d.name = $1 RETURNING `+datasetColumns, name))
	return d, files, translate("delete dataset", err)
}

func nonNilParams(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return p
}
