package web_test

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/gpu/sim"
	"easel/internal/testenv"
)

// simPoolServer starts Easel with a pool "studio" of two simulator members
// and a pool "down" whose only member does not answer.
func simPoolServer(t *testing.T) *testenv.Server {
	t.Helper()
	a := httptest.NewServer(sim.Handler(sim.Options{}))
	b := httptest.NewServer(sim.Handler(sim.Options{}))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	return testenv.NewServer(t,
		testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+a.URL+","+b.URL+";down="+dead),
		testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
}

func endpointsOf(t *testing.T, s *testenv.Server, h testenv.Headers, query string) []map[string]any {
	t.Helper()
	r := s.MustCall(t, 200, "GET", "/endpoints"+query, h, nil)
	var out []map[string]any
	for _, e := range r.JSON(t)["data"].(map[string]any)["endpoints"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func waitEndpoint(t *testing.T, s *testenv.Server, name, status string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, name+" "+status, func() bool {
		for _, e := range endpointsOf(t, s, testenv.As("admin"), "") {
			if e["endpoint_name"] == name && e["endpoint_status"] == status {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func TestEndpointOnASimulatorPool(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	mustRole(t, s, "artists", "sagemaker_endpoint:create", "sagemaker_endpoint:list")
	mustRole(t, s, "writers", "sagemaker_endpoint:create", "sagemaker_endpoint:list")
	mustUser(t, s, "admin", "ann", "artists")
	mustUser(t, s, "admin", "wes", "writers")

	r := s.MustCall(t, 202, "POST", "/endpoints", testenv.As("ann"), map[string]any{
		"endpoint_name": "", "endpoint_type": "Async", "instance_type": "studio", "initial_instance_count": 2.0,
		"autoscaling_enabled": true, "assign_to_roles": []string{"artists"}, "custom_docker_image_uri": "", "creator": "ann",
	})
	data := r.JSON(t)["data"].(map[string]any)
	name := data["endpoint_name"].(string)
	if !strings.HasPrefix(name, "esd-async-") || len(name) != len("esd-async-")+7 || r.Message(t) != "Endpoint deployment started: "+name {
		t.Errorf("create answer: name %q message %q", name, r.Message(t))
	}
	if data["endpoint_status"] != "Creating" || data["max_instance_number"] != 2.0 || data["current_instance_count"] != "0" {
		t.Errorf("create data = %v", data)
	}
	e := waitEndpoint(t, s, name, "InService")
	if e["current_instance_count"] != "2" || e["simulator"] != true || e["endTime"] == nil || e["max_instance_number"] != "2" {
		t.Errorf("in service: %v", e)
	}
	keys := []string{}
	raw := string(s.MustCall(t, 200, "GET", "/endpoints", testenv.As("admin"), nil).Body)
	for _, k := range []string{"EndpointDeploymentJobId", "autoscaling", "max_instance_number", "startTime", "status", "instance_type",
		"current_instance_count", "endTime", "endpoint_status", "endpoint_name", "error", "endpoint_type", "owner_group_or_role"} {
		keys = append(keys, k)
		if !strings.Contains(raw, `"`+k+`":`) {
			t.Errorf("GET /endpoints lacks key %s", k)
		}
	}
	for i := 1; i < len(keys); i++ {
		if strings.Index(raw, `"`+keys[i-1]+`":`) > strings.Index(raw, `"`+keys[i]+`":`) {
			t.Errorf("key %s comes after %s; want the seed's order", keys[i-1], keys[i])
		}
	}

	// One live endpoint per role.
	r = s.MustCall(t, 400, "POST", "/endpoints", testenv.As("ann"), map[string]any{
		"endpoint_type": "Real-time", "instance_type": "studio", "initial_instance_count": "1", "assign_to_roles": []string{"writers", "artists"}})
	if r.Message(t) != "role [artists] has a valid endpoint already, not allow to have another one" {
		t.Errorf("second endpoint for a role: %q", r.Message(t))
	}
	// Visibility and ownership.
	if got := endpointsOf(t, s, testenv.As("wes"), ""); len(got) != 0 {
		t.Errorf("wes sees %d endpoints of another role", len(got))
	}
	s.MustCall(t, 403, "DELETE", "/endpoints", testenv.As("wes"), map[string]any{"endpoint_name_list": []string{name}})
	s.MustCall(t, 204, "DELETE", "/endpoints", testenv.As("wes"), map[string]any{"endpoint_name_list": []string{"no-such-endpoint"}})

	// A pool with no live member fails with the reason.
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("wes"), map[string]any{
		"endpoint_name": "broken", "endpoint_type": "Real-time", "instance_type": "down", "initial_instance_count": 1, "assign_to_roles": []string{"writers"}})
	failed := waitEndpoint(t, s, "esd-real-time-broken", "Failed")
	if msg, _ := failed["error"].(string); !strings.Contains(msg, "127.0.0.1") {
		t.Errorf("failed endpoint error = %v, want the unreachable member named", failed["error"])
	}
	// Paging: newest first, one at a time.
	first := endpointsOf(t, s, testenv.As("admin"), "?limit=1")
	page := s.MustCall(t, 200, "GET", "/endpoints?limit=1", testenv.As("admin"), nil).JSON(t)["data"].(map[string]any)
	next := endpointsOf(t, s, testenv.As("admin"), "?limit=1&exclusive_start_key="+page["last_evaluated_key"].(string))
	if len(first) != 1 || len(next) != 1 || first[0]["endpoint_name"] != "esd-real-time-broken" || next[0]["endpoint_name"] != name {
		t.Errorf("paging: first %v next %v", first, next)
	}
	// The seed's delete_endpoint_list works too; the rows go at once.
	s.MustCall(t, 204, "DELETE", "/endpoints", testenv.As("ann"), map[string]any{"delete_endpoint_list": []string{name}})
	s.MustCall(t, 204, "DELETE", "/endpoints", testenv.As("wes"), map[string]any{"endpoint_name_list": []string{"esd-real-time-broken"}, "username": "wes"})
	if got := endpointsOf(t, s, testenv.As("admin"), ""); len(got) != 0 {
		t.Errorf("endpoints after delete: %v", got)
	}
}

func TestEndpointBadInput(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	mustRole(t, s, "artists", "sagemaker_endpoint:all")
	good := func(change map[string]any) map[string]any {
		b := map[string]any{"endpoint_type": "Async", "instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"artists"}}
		for k, v := range change {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	long := strings.Repeat("x", 21)
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown type", good(map[string]any{"endpoint_type": "Batch"}), `instance value ("Batch") not found in enum`},
		{"serverless", good(map[string]any{"endpoint_type": "Serverless"}), "Serverless endpoint is not supported yet"},
		{"real-time autoscaling", good(map[string]any{"endpoint_type": "Real-time", "autoscaling_enabled": true}), "Autoscaling is not supported for real-time endpoint"},
		{"count 0", good(map[string]any{"initial_instance_count": 0}), "initial_instance_count must be a whole number from 1 to 100, not 0"},
		{"count negative", good(map[string]any{"initial_instance_count": -2}), "not -2"},
		{"count text", good(map[string]any{"initial_instance_count": "many"}), `not "many"`},
		{"count 1000", good(map[string]any{"initial_instance_count": 1000}), "not 1000"},
		{"count 1.5", good(map[string]any{"initial_instance_count": 1.5}), "not 1.5"},
		{"no roles", good(map[string]any{"assign_to_roles": []string{}}), "array is too short"},
		{"unknown role", good(map[string]any{"assign_to_roles": []string{"ghosts"}}), `role "ghosts" does not exist`},
		{"long name", good(map[string]any{"endpoint_name": long}), `is too long (length: 21, maximum allowed: 20)`},
		{"odd name", good(map[string]any{"endpoint_name": "a b/c"}), `must be 1 to 20 letters, digits or dashes`},
		{"unknown instance type", good(map[string]any{"instance_type": "ml.p5.48xlarge"}), "valid types: down, studio"},
		{"custom image on a pool", good(map[string]any{"custom_docker_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b:1"}), "SageMaker endpoints only"},
	} {
		r := s.Call(t, "POST", "/endpoints", testenv.As("admin"), tc.body)
		if r.Status != 400 || !strings.Contains(r.Message(t), tc.want) {
			t.Errorf("%s: got %d %q, want 400 containing %q", tc.name, r.Status, r.Message(t), tc.want)
		}
	}
	if got := endpointsOf(t, s, testenv.As("admin"), ""); len(got) != 0 {
		t.Errorf("bad input created endpoints: %v", got)
	}
	// A numeric string and 1.0 are accepted; a duplicate name is not.
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), good(map[string]any{"initial_instance_count": "1", "endpoint_name": "twin"}))
	mustRole(t, s, "others", "sagemaker_endpoint:all")
	r := s.MustCall(t, 400, "POST", "/endpoints", testenv.As("admin"), good(map[string]any{"initial_instance_count": 1.0, "endpoint_name": "twin", "assign_to_roles": []string{"others"}}))
	if r.Message(t) != "endpoint esd-async-twin already exists" {
		t.Errorf("duplicate name: %q", r.Message(t))
	}
	got := endpointsOf(t, s, testenv.As("admin"), "")
	if len(got) != 1 || !cmp.Equal(got[0]["owner_group_or_role"], []any{"artists"}) {
		t.Errorf("endpoints = %v", got)
	}
}
