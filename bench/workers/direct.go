package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"easel/worker"
	"easel/worker/webui"
)

// directCmd POSTs N txt2img from C concurrent clients straight to the
// simulators (round robin), the body a worker sends for checkpoint Model.
type directCmd struct {
	N, C  int
	Sims  []string
	Model string
}

var errNoSims = errors.New("no simulator to call")

func (c *client) direct(ctx context.Context, cmd directCmd) result {
	var col collector
	if len(cmd.Sims) == 0 {
		col.add("", 0, errNoSims)
		return col.result
	}
	col.Elapsed = parallel(cmd.N, cmd.C, func(i int) {
		begin := time.Now()
		err := c.directPost(ctx, cmd.Sims[i%len(cmd.Sims)], cmd.Model, i)
		col.add("", time.Since(begin), err)
	})
	slices.Sort(col.Latencies)
	return col.result
}

func (c *client) directPost(ctx context.Context, sim, model string, seed int) error {
	raw, _ := json.Marshal(webui.Body(worker.RunRequest{Task: "txt2img", Params: params(seed), Checkpoint: model}))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sim+"/sdapi/v1/txt2img", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Images []string `json:"images"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || len(out.Images) != 1 {
		return fmt.Errorf("direct txt2img: status %d, %d images, %v", res.StatusCode, len(out.Images), err)
	}
	return nil
}
