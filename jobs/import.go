package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/store"
)

// ImportArgs downloads a checkpoint's source URL into the store.
type ImportArgs struct {
	CheckpointID uuid.UUID `json:"checkpoint_id"`
}

// Kind names the job in River.
func (ImportArgs) Kind() string { return "checkpoint_import" }

// InsertOpts: a few attempts, since a download can fail half-way.
func (ImportArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 4} }

// importTimeout bounds one download attempt; importStall ends one that
// receives nothing for this long.
const (
	importTimeout = 6 * time.Hour
	importStall   = 2 * time.Minute
)

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	d Deps
}

func (w *importWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return importTimeout }

func (w *importWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	c, err := store.FindCheckpoint(ctx, w.d.Store.DB(), job.Args.CheckpointID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Status != store.CheckpointInitial) {
		return nil // deleted meanwhile, or finished by an earlier attempt
	}
	if err != nil {
		return err
	}
	err = w.download(ctx, c)
	switch {
	case err == nil:
		return nil
	case isPermanent(err) || job.Attempt >= job.MaxAttempts:
		w.d.Log.Warn("checkpoint import failed", "checkpoint", c.ID, "url", RedactURL(c.SourceURL), "error", err)
		if ferr := w.fail(context.WithoutCancel(ctx), c, err); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	w.d.Log.Info("checkpoint import will retry", "checkpoint", c.ID, "attempt", job.Attempt, "error", err)
	return err
}

func (w *importWorker) fail(ctx context.Context, c store.Checkpoint, cause error) error {
	status, msg := store.CheckpointFailed, importMessage(cause)
	return setCheckpointStatus(ctx, w.d, c, store.CheckpointUpdate{Status: &status, Error: &msg}, msg)
}

// setCheckpointStatus applies upd (a new status) to c with its audit
// entry, in one transaction.
func setCheckpointStatus(ctx context.Context, d Deps, c store.Checkpoint, upd store.CheckpointUpdate, detail string) error {
	return d.Store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.UpdateCheckpoint(ctx, tx, c.ID, upd, d.Store.Now()); err != nil {
			return err
		}
		return store.AuditChange(ctx, tx, store.AuditRecord{Actor: store.SystemActor, Action: "checkpoint.update",
			Target: c.ID.String(), Detail: detail,
			Before: map[string]string{"status": c.Status}, After: map[string]string{"status": *upd.Status}})
	})
}

// download streams the source into the checkpoint's object: never the
// whole file in memory or on disk.
func (w *importWorker) download(ctx context.Context, c store.Checkpoint) error {
	key := strings.TrimPrefix(c.S3Location, "s3://"+w.d.Blob.Bucket+"/") + "/" + c.Names[0]
	// A previous attempt killed half-way may have left an open upload.
	if _, err := w.d.Blob.DeletePrefix(ctx, key); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.SourceURL, nil)
	if err != nil {
		return permanent{fmt.Sprintf("invalid URL: %v", err)}
	}
	res, err := w.d.Cfg.URLs.Client(0).Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", fromSource(redactErr(err, c.SourceURL), c.SourceURL))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("the server answered %s", res.Status)
		if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests {
			return retryable{msg}
		}
		return permanent{msg}
	}
	limit := w.d.Cfg.MaxModelBytes
	if res.ContentLength > limit {
		return permanent{tooLarge(res.ContentLength, limit)}
	}
	now := w.d.Store.Now()
	if res.ContentLength >= 0 {
		total := res.ContentLength
		zero := int64(0)
		if err := store.UpdateCheckpoint(ctx, w.d.Store.DB(), c.ID, store.CheckpointUpdate{TotalBytes: &total, ProgressBytes: &zero}, now); err != nil {
			return err
		}
	}
	body := &guardedReader{r: res.Body, src: res.Request.URL.String(), limit: limit, stall: time.AfterFunc(importStall, func() {
		cancel(retryable{"the download stalled: nothing received for " + importStall.String()})
	})}
	defer body.stall.Stop()
	result, err := w.d.Blob.Upload(ctx, key, body, w.d.Cfg.PartSize, func(done int64) {
		_ = store.UpdateCheckpoint(ctx, w.d.Store.DB(), c.ID, store.CheckpointUpdate{ProgressBytes: &done}, w.d.Store.Now())
	})
	switch {
	case body.exceeded:
		return permanent{tooLarge(body.n, limit)}
	case err != nil && context.Cause(ctx) != nil && ctx.Err() != nil:
		return context.Cause(ctx)
	case err != nil:
		return fmt.Errorf("download: %w", redactErr(err, c.SourceURL))
	}
	active := store.CheckpointActive
	err = setCheckpointStatus(ctx, w.d, c, store.CheckpointUpdate{Status: &active,
		Size: &result.Size, SHA256: &result.SHA256, ProgressBytes: &result.Size, TotalBytes: &result.Size}, "")
	if err != nil {
		return err
	}
	c.Status = active
	if err := recordModelInfo(ctx, w.d, c); err != nil {
		// The import is done; the library shows the file as not read.
		w.d.Log.Warn("reading an imported model's header failed", "checkpoint", c.ID, "error", err)
	}
	return nil
}

func tooLarge(n, limit int64) string {
	return fmt.Sprintf("the file is larger than the limit of %d bytes (EASEL_MAX_MODEL_BYTES); %d bytes or more were offered", limit, n)
}

// redactErr keeps credentials in the URL out of err's text (for the log);
// errors.As still finds the causes.
func redactErr(err error, raw string) error {
	red := RedactURL(raw)
	if red == raw {
		return err
	}
	return redacted{msg: strings.ReplaceAll(err.Error(), raw, red), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }

// guardedReader counts bytes, fails past limit, resets the stall timer on
// every read and marks read errors as the source's (src: the URL read).
type guardedReader struct {
	r        io.Reader
	src      string
	n, limit int64
	exceeded bool
	stall    *time.Timer
}

func (g *guardedReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fromSource(err, g.src)
	}
	g.n += int64(n)
	if n > 0 {
		g.stall.Reset(importStall)
	}
	if g.n > g.limit {
		g.exceeded = true
		return n, errors.New("file too large")
	}
	return n, err
}
