package web_test

import (
	"net/http"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

func TestPingRootAndDocument(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	r := s.MustCall(t, 200, "GET", "/ping", testenv.Key(testenv.ServiceKey), nil)
	if got := strings.TrimSpace(string(r.Body)); got != `{"statusCode":200,"message":"pong"}` {
		t.Errorf("ping body = %s", got)
	}
	for name, want := range map[string]string{
		"x-api-version": "1.4.0", "Access-Control-Allow-Origin": "*",
		"Access-Control-Allow-Headers": "*", "Access-Control-Allow-Methods": "*",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	s.MustCall(t, 200, "GET", "/", testenv.Key(testenv.ServiceKey), nil)
	doc := s.MustCall(t, 200, "GET", "/api", testenv.Key(testenv.ServiceKey), nil).JSON(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
}

func TestAPIVersionIsConfigurable(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_API_VERSION", "1.3.0"))
	r := s.MustCall(t, 200, "GET", "/ping", testenv.Key(testenv.ServiceKey), nil)
	if got := r.Header.Get("x-api-version"); got != "1.3.0" {
		t.Errorf("x-api-version = %q, want 1.3.0", got)
	}
}

func TestKeyIsRequired(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for _, tc := range []struct {
		name string
		h    testenv.Headers
	}{
		{"no key", nil},
		{"unknown key", testenv.Key("not-a-key")},
		{"empty key", testenv.Key("")},
	} {
		for _, route := range [][2]string{{"GET", "/ping"}, {"GET", "/users"}, {"POST", "/roles"}, {"DELETE", "/users"}} {
			r := s.Call(t, route[0], route[1], tc.h, map[string]any{})
			if r.Status != 403 || strings.TrimSpace(string(r.Body)) != `{"message":"Forbidden"}` {
				t.Errorf("%s: %s %s = %d %s, want 403 {\"message\":\"Forbidden\"}", tc.name, route[0], route[1], r.Status, r.Body)
			}
		}
	}
}

func TestRevokedKeyIsRefused(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	key := s.UserKey(t, "admin")
	s.MustCall(t, 200, "GET", "/ping", testenv.Key(key), nil)
	keys, err := store.ListKeys(t.Context(), s.App.Store.DB(), storeKeysOf("admin"))
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys of admin: %v %v", keys, err)
	}
	revokeKey(t, s, keys[0].ID)
	s.MustCall(t, 403, "GET", "/ping", testenv.Key(key), nil)
}

func TestPreflightNeedsNoKey(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/prod/users", nil)
	req.Header.Set("Origin", "http://webui.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight = %d, allow-origin %q; want 204 and *", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestUnknownRouteIsAPIGatewayStyle(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	for _, route := range [][2]string{{"GET", "/nope"}, {"PUT", "/users"}, {"PATCH", "/roles"}} {
		r := s.Call(t, route[0], route[1], testenv.Key(testenv.ServiceKey), nil)
		if r.Status != 403 || !strings.Contains(string(r.Body), "Missing Authentication Token") {
			t.Errorf("%s %s = %d %s, want 403 Missing Authentication Token", route[0], route[1], r.Status, r.Body)
		}
	}
}
