package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// checkpoint is a model in Easel's library.
type checkpoint struct {
	name, sha256 string
}

// weights are the bytes of the bench checkpoint i: 256 KiB, distinct per
// checkpoint.
func weights(i int) []byte {
	b := make([]byte, 0, 256<<10)
	seed := sha256.Sum256(fmt.Appendf(nil, "easel bench-workers checkpoint %d", i))
	for len(b) < cap(b) {
		b = append(b, seed[:]...)
		seed = sha256.Sum256(seed[:])
	}
	return b
}

// uploadCheckpoints uploads n checkpoints through the API (POST
// /prod/checkpoints, PUT of the one part to its presigned URL, PUT
// status Active) and waits until the library shows their SHA-256,
// which a background job computes: workers fetch only verified files.
func (c *client) uploadCheckpoints(ctx context.Context, n int) ([]checkpoint, error) {
	var out []checkpoint
	for i := range n {
		name := fmt.Sprintf("bench-%c.safetensors", 'a'+i)
		data := weights(i)
		sum := sha256.Sum256(data)
		if err := c.uploadCheckpoint(ctx, name, data); err != nil {
			return nil, err
		}
		out = append(out, checkpoint{name: name, sha256: hex.EncodeToString(sum[:])})
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var list struct {
			Data struct {
				Checkpoints []struct {
					SHA256 string `json:"sha256"`
				} `json:"checkpoints"`
			} `json:"data"`
		}
		if err := c.call(ctx, http.MethodGet, "/prod/checkpoints", nil, http.StatusOK, &list); err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for _, ck := range list.Data.Checkpoints {
			have[ck.SHA256] = true
		}
		missing := 0
		for _, ck := range out {
			if !have[ck.sha256] {
				missing++
			}
		}
		if missing == 0 {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d checkpoints have no checksum after a minute", missing)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

func (c *client) uploadCheckpoint(ctx context.Context, name string, data []byte) error {
	var created struct {
		Data struct {
			Checkpoint struct {
				ID string `json:"id"`
			} `json:"checkpoint"`
			Presign map[string][]string `json:"s3PresignUrl"`
		} `json:"data"`
	}
	err := c.call(ctx, http.MethodPost, "/prod/checkpoints", map[string]any{"checkpoint_type": "Stable-diffusion",
		"filenames": []map[string]any{{"filename": name, "parts_number": 1}},
		"params":    map[string]any{"creator": "admin", "message": "bench-workers"}}, http.StatusCreated, &created)
	if err != nil {
		return err
	}
	urls := created.Data.Presign[name]
	if len(urls) != 1 {
		return fmt.Errorf("POST /prod/checkpoints: %d part URLs for %s, want 1", len(urls), name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, urls[0], bytes.NewReader(data))
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("PUT part of %s: %w", name, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || etag == "" {
		return fmt.Errorf("PUT part of %s: %d, ETag %q", name, res.StatusCode, etag)
	}
	return c.call(ctx, http.MethodPut, "/prod/checkpoints/"+created.Data.Checkpoint.ID, map[string]any{"status": "Active",
		"multi_parts_tags": map[string]any{name: []map[string]any{{"ETag": etag, "PartNumber": 1}}}}, http.StatusOK, nil)
}

// createEndpoint creates the Async endpoint on pool, assigned to role, and
// waits until it is InService (a worker of the pool must be online); it
// returns its name.
func (c *client) createEndpoint(ctx context.Context, pool, role string) (string, error) {
	err := c.call(ctx, http.MethodPost, "/prod/endpoints", map[string]any{"endpoint_name": pool,
		"endpoint_type": "Async", "instance_type": pool, "initial_instance_count": 1,
		"assign_to_roles": []string{role}}, http.StatusAccepted, nil)
	if err != nil {
		return "", err
	}
	name := "esd-async-" + pool
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var out struct {
			Data struct {
				Endpoints []struct {
					Name   string `json:"endpoint_name"`
					Status string `json:"endpoint_status"`
				} `json:"endpoints"`
			} `json:"data"`
		}
		if err := c.call(ctx, http.MethodGet, "/prod/endpoints", nil, http.StatusOK, &out); err != nil {
			return "", err
		}
		for _, e := range out.Data.Endpoints {
			switch {
			case e.Name == name && e.Status == "InService":
				return name, nil
			case e.Name == name && e.Status == "Failed":
				return "", errors.New("endpoint " + name + " failed")
			}
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return "", err
		}
	}
	return "", errors.New("endpoint " + name + " is not InService after a minute")
}

// deleteEndpoint deletes the endpoint name: ESD allows one endpoint per
// role, and the endpoints of the throughput and affinity phases are
// assigned to byoc in turn.
func (c *client) deleteEndpoint(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "/prod/endpoints", map[string]any{"endpoint_name_list": []string{name}},
		http.StatusNoContent, nil)
}
