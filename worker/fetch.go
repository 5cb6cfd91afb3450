package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"easel/workerproto"
)

// errCorrupt is a download whose size or SHA-256 is not the model's.
var errCorrupt = errors.New("the download does not match the model")

// ensureModels puts every model of the job in place, downloading those
// it lacks, and has the WebUI rescan what changed. It reports whether it
// downloaded anything.
func (w *Worker) ensureModels(ctx context.Context, job *workerproto.Job, st *jobState) (bool, error) {
	inUse := map[string]bool{}
	var missing []workerproto.Model
	var need int64
	for _, m := range job.Models {
		dst, err := w.cache.path(m.Type, m.Name)
		if err != nil {
			return false, &jobError{reason: err.Error()}
		}
		inUse[modelKey(m)] = true
		if e, ok := w.cache.lookup(m); ok && sizeIs(dst, e.Size) {
			continue
		}
		present, err := w.adopt(m, dst)
		if err != nil {
			return false, err
		}
		if !present {
			missing = append(missing, m)
			need += m.Size
		}
	}
	if len(missing) > 0 {
		if err := w.cache.makeRoom(need, inUse); err != nil {
			return false, &jobError{reason: err.Error(), transient: true}
		}
	}
	st.set(stageDownloading, 0, 0, 0)
	var done int64
	refresh := map[string]bool{}
	for _, m := range missing {
		dst, _ := w.cache.path(m.Type, m.Name)
		size, err := w.download(ctx, m, dst, func(n int64) {
			if need > 0 {
				st.set(stageDownloading, min(1, float64(done+n)/float64(need)), 0, 0)
			}
		})
		if err != nil {
			return false, fmt.Errorf("downloading %s %s: %w", m.Type, m.Name, err)
		}
		done += size
		if err := w.cache.add(m, size, true); err != nil {
			return false, err
		}
		refresh[m.Type] = true
		// A model whose size Easel did not say may have overfilled the cache.
		if err := w.cache.makeRoom(0, inUse); err != nil {
			w.log.Warn("the cache is over --cache-size", "error", err)
		}
	}
	if err := w.cache.touch(job.Models); err != nil {
		return false, err
	}
	if len(refresh) > 0 {
		var types []string
		for _, t := range modelTypes {
			if refresh[t] {
				types = append(types, t)
			}
		}
		if err := w.backend.Refresh(ctx, types); err != nil {
			// The answer's model check catches a checkpoint the WebUI missed.
			w.log.Warn("the WebUI did not rescan its models", "types", types, "error", err)
		}
	}
	return len(missing) > 0, nil
}

func sizeIs(path string, size int64) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// adopt looks at the file where m belongs, which the index does not
// vouch for. One with m's hash is recorded (as the worker's only if the
// index had it so) and reported present. Another file the worker
// downloaded is removed; one it did not is left alone and fails the job.
func (w *Worker) adopt(m workerproto.Model, dst string) (bool, error) {
	old, ours := w.cache.entries[modelKey(m)]
	ours = ours && old.Downloaded
	delete(w.cache.entries, modelKey(m))
	f, err := os.Open(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(hex.EncodeToString(h.Sum(nil)), m.SHA256) {
		return true, w.cache.add(m, size, ours)
	}
	if ours {
		return false, os.Remove(dst)
	}
	return false, &jobError{reason: fmt.Sprintf("%s exists with another SHA-256; the worker does not overwrite files it did not download", dst), transient: true}
}

// download fetches m into dst, retrying corrupt and failed downloads with
// backoff; it returns the size. Nothing but a verified file is ever put
// at dst.
func (w *Worker) download(ctx context.Context, m workerproto.Model, dst string, progress func(int64)) (int64, error) {
	var err error
	for n := 0; n < w.cfg.DownloadAttempts; n++ {
		if n > 0 {
			w.log.Warn("download failed; retrying", "model", m.Name, "attempt", n+1, "error", err)
			if err := sleep(ctx, w.backoff(n-1)); err != nil {
				return 0, err
			}
		}
		var size int64
		size, err = w.downloadOnce(ctx, m, dst, progress)
		if err == nil {
			return size, nil
		}
		var se *statusError
		if ctx.Err() != nil || (errors.As(err, &se) && se.status < 500) {
			break // an expired or wrong URL stays so
		}
	}
	return 0, err
}

// downloadOnce streams the URL into a temporary file beside dst while
// hashing it, and renames it into place only when the hash matches.
func (w *Worker) downloadOnce(ctx context.Context, m workerproto.Model, dst string, progress func(int64)) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return 0, redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return 0, &statusError{path: "GET model", status: resp.StatusCode, body: strings.TrimSpace(string(text))}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*"+partSuffix)
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), &progressReader{r: resp.Body, report: progress})
	if err != nil {
		return 0, redact(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case m.Size > 0 && size != m.Size:
		return 0, fmt.Errorf("%w: %d bytes, want %d", errCorrupt, size, m.Size)
	case m.SHA256 != "" && !strings.EqualFold(sum, m.SHA256): // a dataset file's may not be known yet
		return 0, fmt.Errorf("%w: SHA-256 %s, want %s", errCorrupt, sum, m.SHA256)
	}
	if err := f.Chmod(0o644); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return size, os.Rename(f.Name(), dst)
}

// progressReader reports how much has been read.
type progressReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.report != nil {
		p.report(p.n)
	}
	return n, err
}

// redact drops the query (a presigned URL's signature) from an HTTP
// client error, which is logged and sent to Easel.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.RawQuery != "" {
			u.RawQuery = ""
			ue.URL = u.String() + "?…"
		}
	}
	return err
}
