package benchenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// As is the header of an API request as user through the service key.
func As(user string) http.Header {
	return http.Header{"X-Api-Key": {ServiceKey}, "Username": {user}}
}

// Post POSTs body as JSON to base+path with the header h and wants 201.
func Post(ctx context.Context, client *http.Client, base, path string, h http.Header, body any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, out)
	}
	return nil
}
