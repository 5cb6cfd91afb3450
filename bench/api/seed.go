package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"easel/bench/internal/benchenv"
)

// seed creates the users GET /prod/users then lists (with admin: 51).
func seed(ctx context.Context, client *http.Client, base string, h http.Header) error {
	for i := range seedUsers {
		body := map[string]any{"username": fmt.Sprintf("bench-user-%02d", i),
			"creator": "admin", "password": "x", "roles": []string{}}
		if err := benchenv.Post(ctx, client, base, "/prod/users", h, body); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	return nil
}

// countUsers returns how many users GET /prod/users lists.
func countUsers(ctx context.Context, client *http.Client, base string, h http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/prod/users", nil)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("list users: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Users []json.RawMessage `json:"users"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("list users: status %d: %v", res.StatusCode, err)
	}
	return len(out.Data.Users), nil
}
