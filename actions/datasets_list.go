package actions

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/store"
)

// DatasetQuery narrows List: Status filters exactly; Limit 0 returns
// every row; StartKey continues after a previous page's NextKey.
type DatasetQuery struct {
	Status   string
	Limit    int
	StartKey string
}

// DatasetPage is one page of datasets; NextKey is "" on the last page.
type DatasetPage struct {
	Datasets []store.Dataset
	NextKey  string
}

// MaxDatasetPage bounds limit.
const MaxDatasetPage = 1000

// List returns the datasets actor may see, newest first, filtered before
// paging.
func (h *Datasets) List(ctx context.Context, actor policy.Principal, q DatasetQuery) (DatasetPage, error) {
	if err := h.policy.Require(actor, policy.TrainList); err != nil {
		return DatasetPage{}, err
	}
	if q.Limit < 0 || q.Limit > MaxDatasetPage {
		return DatasetPage{}, store.FieldError("limit", "limit must be a whole number from 1 to %d", MaxDatasetPage)
	}
	after, err := decodeDatasetKey(q.StartKey)
	if err != nil {
		return DatasetPage{}, err
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return DatasetPage{}, err
	}
	list, more, err := store.ListDatasets(ctx, h.store.DB(), store.DatasetFilter{Status: q.Status, VisibleTo: v, After: after, Limit: q.Limit})
	if err != nil {
		return DatasetPage{}, err
	}
	page := DatasetPage{Datasets: list}
	if more && len(list) > 0 {
		last := list[len(list)-1]
		page.NextKey = encodeDatasetKey(store.DatasetCursor{CreatedAt: last.CreatedAt, Name: last.Name})
	}
	return page, nil
}

// The opaque paging key: base64url of "<unix microseconds>:<name>".
func encodeDatasetKey(c store.DatasetCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.Name))
}

func decodeDatasetKey(key string) (*store.DatasetCursor, error) {
	if key == "" {
		return nil, nil
	}
	bad := store.FieldError("exclusive_start_key", "exclusive_start_key is not a key this API gave (send last_evaluated_key of the previous page)")
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return nil, bad
	}
	at, name, ok := strings.Cut(string(raw), ":")
	micros, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || name == "" {
		return nil, bad
	}
	return &store.DatasetCursor{CreatedAt: time.UnixMicro(micros), Name: name}, nil
}

// MaxCaptionBytes bounds a caption saved from the console.
const MaxCaptionBytes = 64 << 10

// SaveCaption writes text as the .txt caption of the image record key of
// dataset name (same stem): the caption's object is replaced, and its
// record added when the dataset had none.
func (h *Datasets) SaveCaption(ctx context.Context, actor policy.Principal, name, key, text string) (store.DatasetFile, error) {
	if err := h.policy.Require(actor, policy.TrainCreate); err != nil {
		return store.DatasetFile{}, err
	}
	if len(text) > MaxCaptionBytes {
		return store.DatasetFile{}, store.FieldError("caption", "a caption is at most %d bytes", MaxCaptionBytes)
	}
	d, err := h.visible(ctx, h.store.DB(), actor, name, false)
	if err != nil {
		return store.DatasetFile{}, err
	}
	img, err := store.DatasetFileByKey(ctx, h.store.DB(), name, key)
	if err != nil {
		return store.DatasetFile{}, err
	}
	caption := CaptionName(img.Filename)
	f := store.DatasetFile{Dataset: name, Key: fmt.Sprintf("%s_%s", strings.SplitN(img.Key, "_", 2)[0], caption),
		Name: caption, Filename: caption, Type: img.Type, Status: d.Status,
		Params: map[string]any{"original_file_name": caption}}
	if err := h.blob.Put(ctx, d.Folder()+"/"+caption, []byte(text), "text/plain; charset=utf-8"); err != nil {
		return store.DatasetFile{}, err
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.DatasetFileByKey(ctx, tx, name, f.Key); store.ErrorCode(err) == store.ENotFound {
			if err := store.AddDatasetFile(ctx, tx, f); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(text))
		if err := store.RecordDatasetFile(ctx, tx, name, f.Key, int64(len(text)), hex.EncodeToString(sum[:]), ""); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "dataset.caption", name, caption)
	})
	return f, err
}

// CaptionName is the caption file of an image: same stem, .txt.
func CaptionName(filename string) string {
	return strings.TrimSuffix(filename, path.Ext(filename)) + ".txt"
}
