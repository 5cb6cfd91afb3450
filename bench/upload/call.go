package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"easel/bench/internal/benchenv"
)

// call sends one request, to Easel as admin through the service key when
// target is a path, decodes the answer into out when it has the wanted
// status and returns its header.
func (b *bench) call(ctx context.Context, method, target string, body io.Reader, want int, out any) (http.Header, error) {
	header := http.Header{}
	if strings.HasPrefix(target, "/") {
		target, header = b.base+target, http.Header{"X-Api-Key": {benchenv.ServiceKey}, "Username": {"admin"}, "Content-Type": {"application/json"}}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if r, ok := body.(*io.SectionReader); ok {
		req.ContentLength = r.Size()
	}
	req.Header = header
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	switch {
	case err != nil:
	case res.StatusCode != want:
		err = fmt.Errorf("%s %s: %d %.300s", method, req.URL.Path, res.StatusCode, data)
	case out != nil:
		err = json.Unmarshal(data, out)
	}
	return res.Header, err
}

func jsonBody(v any) io.Reader {
	buf, _ := json.Marshal(v)
	return bytes.NewReader(buf)
}
