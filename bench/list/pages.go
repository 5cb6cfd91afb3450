package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// bench GETs pages of the inference list from Easel.
type bench struct {
	client *http.Client
	base   string
}

// timing is the latencies of one measured case.
type timing struct {
	name string
	r    []time.Duration
	page bool // a page, under the target
}

type page struct {
	ids  []string
	next string
}

// page GETs one page and checks it is newest first.
func (b *bench) page(ctx context.Context, h http.Header, user, key string) (time.Duration, page, error) {
	q := url.Values{"limit": {fmt.Sprint(pageSize)}}
	if user != "" {
		q.Set("username", user)
	}
	if key != "" {
		q.Set("exclusive_start_key", key)
	}
	begin := time.Now()
	body, err := b.get(ctx, h, "/prod/inferences?"+q.Encode())
	d := time.Since(begin)
	if err != nil {
		return d, page{}, err
	}
	var out struct {
		Data struct {
			Inferences []struct {
				ID         string   `json:"InferenceJobId"`
				CreateTime string   `json:"createTime"`
				Owners     []string `json:"owner_group_or_role"`
			} `json:"inferences"`
			Next string `json:"last_evaluated_key"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return d, page{}, fmt.Errorf("answer is not the list JSON: %w", err)
	}
	p := page{next: out.Data.Next}
	for i, r := range out.Data.Inferences {
		if i > 0 && r.CreateTime > out.Data.Inferences[i-1].CreateTime {
			return d, p, errors.New("rows are not newest first")
		}
		if user != "" && (len(r.Owners) != 1 || r.Owners[0] != user) {
			return d, p, fmt.Errorf("row of %v in the list of %s", r.Owners, user)
		}
		p.ids = append(p.ids, r.ID)
	}
	return d, p, nil
}

func (b *bench) get(ctx context.Context, h http.Header, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %.300s", path, res.StatusCode, body)
	}
	return body, nil
}

// secondKey returns the exclusive_start_key of a listing's second page.
func (b *bench) secondKey(ctx context.Context, h http.Header, user string) (string, error) {
	_, p, err := b.page(ctx, h, user, "")
	if err == nil && (len(p.ids) != pageSize || p.next == "") {
		err = fmt.Errorf("%d rows, next key %q", len(p.ids), p.next)
	}
	if err != nil {
		return "", fmt.Errorf("first page of %s as %s: %w", user, h.Get("Username"), err)
	}
	return p.next, nil
}

// repeat GETs one page n times.
func (b *bench) repeat(ctx context.Context, n int, h http.Header, user, key string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		d, p, err := b.page(ctx, h, user, key)
		if err != nil {
			return nil, err
		}
		if len(p.ids) != pageSize {
			return nil, fmt.Errorf("%d rows, want %d", len(p.ids), pageSize)
		}
		out = append(out, d)
	}
	return out, nil
}

// whole GETs the list without a limit three times.
func (b *bench) whole(ctx context.Context, h http.Header, jobs int) ([]time.Duration, error) {
	var out []time.Duration
	for range 3 {
		begin := time.Now()
		body, err := b.get(ctx, h, "/prod/inferences")
		d := time.Since(begin)
		if err != nil {
			return nil, err
		}
		var list struct {
			Data struct {
				Inferences []json.RawMessage `json:"inferences"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &list); err != nil || len(list.Data.Inferences) != jobs {
			return nil, fmt.Errorf("whole list: %d rows, want %d (%v)", len(list.Data.Inferences), jobs, err)
		}
		out = append(out, d)
	}
	return out, nil
}
