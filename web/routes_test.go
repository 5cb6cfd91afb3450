package web_test

import (
	"regexp"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestEveryRouteHasAGuard fails when a route is registered outside the
// guard tables of routes.go.
func TestEveryRouteHasAGuard(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	guards := s.App.Web.Guards()
	n := 0
	for _, r := range s.App.Web.Echo.Routes() {
		if strings.HasPrefix(r.Method, "echo_route_") {
			continue // echo's own not-found placeholders
		}
		n++
		g, ok := guards[r.Method+" "+r.Path]
		if !ok || !g.IsSet() {
			t.Errorf("route %s %s has no permission guard in web/routes.go", r.Method, r.Path)
		}
	}
	if n < 20 {
		t.Errorf("only %d routes registered; the walk is not seeing the router", n)
	}
}

// TestEveryAPIRouteIsDocumented checks the OpenAPI document and the router
// agree: each API route has an operation, each operation a route.
func TestEveryAPIRouteIsDocumented(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	doc := s.MustCall(t, 200, "GET", "/api", testenv.Key(testenv.ServiceKey), nil).JSON(t)
	documented := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			echoPath := regexp.MustCompile(`\{(\w+)\}`).ReplaceAllString(path, ":$1")
			documented[strings.ToUpper(method)+" /prod"+strings.TrimSuffix(echoPath, "/")] = true
			if op.(map[string]any)["operationId"] == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
	routed := map[string]bool{}
	for _, r := range s.App.Web.Echo.Routes() {
		if strings.HasPrefix(r.Path, "/prod") && !strings.HasPrefix(r.Method, "echo_route_") {
			p := strings.TrimSuffix(r.Path, "/")
			routed[r.Method+" "+p] = true
			if !documented[r.Method+" "+p] {
				t.Errorf("API route %s %s is not in the OpenAPI document", r.Method, r.Path)
			}
		}
	}
	for k := range documented {
		if !routed[k] {
			t.Errorf("OpenAPI operation %s has no route", k)
		}
	}
}
