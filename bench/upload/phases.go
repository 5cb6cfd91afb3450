package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"easel/blob"
)

// done ends the timing and the memory sampling of the running phase.
func (b *bench) done() {
	b.took = time.Since(b.before.at)
	b.after = b.mem.sample()
	b.peak = b.mem.track(b.after)
}

// upload creates a checkpoint of the file in parts of partSize, PUTs them
// from workers goroutines, completes, checks and deletes it.
func (b *bench) upload(ctx context.Context, name string, partSize int64, workers int) (string, error) {
	n := int((b.size + partSize - 1) / partSize)
	var created struct {
		Data struct {
			Checkpoint struct {
				ID         string
				S3Location string `json:"s3_location"`
			}
			URLs map[string][]string `json:"s3PresignUrl"`
		}
	}
	_, err := b.call(ctx, http.MethodPost, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_type": "Stable-diffusion",
		"filenames": []map[string]any{{"filename": name, "parts_number": n}}}), http.StatusCreated, &created)
	if err != nil {
		return "", err
	}
	urls := created.Data.URLs[name]
	if len(urls) != n {
		return "", fmt.Errorf("got %d part URLs, want %d", len(urls), n)
	}
	f, err := os.Open(b.src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	begin, tags, errs, sem := time.Now(), make([]map[string]any, n), make([]error, n), make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			off := int64(i) * partSize // each part streamed from the file, not buffered
			h, err := b.call(ctx, http.MethodPut, urls[i], io.NewSectionReader(f, off, min(partSize, b.size-off)), http.StatusOK, nil)
			if err == nil && h.Get("ETag") == "" {
				err = fmt.Errorf("part %d: no ETag", i+1)
			}
			tags[i], errs[i] = map[string]any{"ETag": h.Get("ETag"), "PartNumber": i + 1}, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	completing, id := time.Now(), created.Data.Checkpoint.ID
	_, err = b.call(ctx, http.MethodPut, "/prod/checkpoints/"+id, jsonBody(map[string]any{"status": "Active",
		"multi_parts_tags": map[string]any{name: tags}}), http.StatusOK, nil)
	if err != nil {
		return "", err
	}
	b.done()
	note := fmt.Sprintf("(parts %.2f s, completion %.2f s)", completing.Sub(begin).Seconds(), time.Since(completing).Seconds())
	return note, b.verify(ctx, id, strings.TrimPrefix(created.Data.Checkpoint.S3Location, "s3://"+b.blob.Bucket+"/")+"/"+name, "")
}

// importURL serves the file on loopback, imports it and waits for Active.
func (b *bench) importURL(ctx context.Context, name string) (note string, err error) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(b.src) // a file of its own: sendfile, no shared offset
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, name, time.Time{}, f)
	}))
	defer files.Close()
	stored := time.Duration(0) // when every part was stored (progress = size)
	_, err = b.call(ctx, http.MethodPost, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_type": "Stable-diffusion",
		"urls": []string{files.URL + "/files/" + name}}), http.StatusAccepted, nil)
	if err != nil {
		return "", err
	}
	return note, poll(ctx, func() (bool, error) {
		var list struct {
			Data struct{ Checkpoints []listed }
		}
		if _, err := b.call(ctx, http.MethodGet, "/prod/checkpoints?per_page=100", nil, http.StatusOK, &list); err != nil {
			return false, err
		}
		for _, c := range list.Data.Checkpoints {
			switch {
			case len(c.Name) == 0 || c.Name[0] != name:
			case c.Status == "Initial" && c.Progress == strconv.FormatInt(b.size, 10) && stored == 0:
				stored = time.Since(b.before.at)
			case c.Status == "Active":
				b.done()
				note = "(completion under 100 ms)"
				if stored > 0 {
					note = fmt.Sprintf("(parts stored after %.2f s, Active %.2f s later)", stored.Seconds(), (b.took - stored).Seconds())
				}
				return true, b.verify(ctx, c.ID, strings.TrimPrefix(c.S3Location, "s3://"+b.blob.Bucket+"/")+"/"+name, c.SHA256)
			case c.Status != "Initial":
				return false, fmt.Errorf("import ended %s: %s", c.Status, c.Error)
			}
		}
		return false, nil
	})
}

// listed is a checkpoint of GET /prod/checkpoints.
type listed struct {
	ID, S3Location, Status, SHA256, Error string
	Name                                  []string
	Progress                              string `json:"progress_bytes"`
}

// verify checks the stored object (and the SHA-256 when given), then deletes
// the checkpoint and waits for the job that removes its object.
func (b *bench) verify(ctx context.Context, id, key, sha string) error {
	if n, err := b.blob.Head(ctx, key); err != nil || n != b.size {
		b.bad = append(b.bad, fmt.Sprintf("%s: %d bytes (%v), want %d", key, n, err, b.size))
	}
	if sha != b.sha && sha != "" {
		b.bad = append(b.bad, fmt.Sprintf("%s: sha256 %s, want %s", key, sha, b.sha))
	}
	if b.keep {
		return nil
	}
	_, err := b.call(ctx, http.MethodDelete, "/prod/checkpoints", jsonBody(map[string]any{"checkpoint_id_list": []string{id}}), http.StatusNoContent, nil)
	if err != nil {
		return err
	}
	return poll(ctx, func() (bool, error) { _, err := b.blob.Head(ctx, key); return blob.IsNotFound(err), nil })
}

// poll calls f every 100 ms until it is done, fails or ctx ends.
func poll(ctx context.Context, f func() (done bool, err error)) error {
	for {
		if done, err := f(); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
