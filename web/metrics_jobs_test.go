package web_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"easel/actions"
	"easel/gpu/sim"
	"easel/internal/testenv"
	"easel/policy"
)

// TestMetricsOfJobs runs jobs on an easel worker (the first downloads its
// model, the second finds it cached) and one on a WebUI pool, then checks
// the job, endpoint, worker and download metrics, and that every metric
// the Grafana dashboard queries is in the scrape.
func TestMetricsOfJobs(t *testing.T) {
	t.Parallel()
	studio := httptest.NewServer(sim.Handler(sim.Options{ModelsDir: simModels(t)}))
	t.Cleanup(studio.Close)
	s := testenv.NewServer(t, withMetricsToken, testenv.WithEnv("EASEL_WORKER_POOLS", "gpus"),
		testenv.WithEnv("EASEL_WEBUI_POOLS", "studio="+studio.URL),
		testenv.WithEnv("EASEL_WORKER_HEARTBEAT", "400ms"), testenv.WithEnv("EASEL_RECONCILE_INTERVAL", "200ms"))
	key, _, err := s.App.Actions.Keys.Create(context.Background(), policy.Principal{Service: true}, actions.KeyInput{Name: "box", Pool: "gpus"})
	if err != nil {
		t.Fatal(err)
	}
	workerModel(t, s, "lighthouse.safetensors", []byte("the weights of lighthouse.safetensors"))
	startBox(t, s, key, "box-1", sim.Options{})
	workersEndpoint(t, s)
	for i := range 2 {
		if job := waitJob(t, s, workerJob(t, s, "lighthouse.safetensors")); job["status"] != "succeed" {
			t.Fatalf("worker job %d: %v", i+1, job)
		}
	}
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "live", "endpoint_type": "Real-time",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}})
	waitEndpoint(t, s, "esd-real-time-live", "InService")
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	live := createJob(t, s, admin, "Real-time", "txt2img", map[string]any{"prompt": "a harbour", "width": 32, "height": 32})
	if job := s.MustCall(t, 200, "PUT", "/inferences/"+live+"/start", admin, nil).JSON(t)["data"].(map[string]any); job["status"] != "succeed" {
		t.Fatalf("real-time job: %v", job)
	}

	fams := scrape(t, s)
	gpus := map[string]string{"endpoint": "esd-async-gpus", "backend": "workers"}
	webui := map[string]string{"endpoint": "esd-real-time-live", "backend": "webui"}
	checkHistogram(t, fams, "easel_inference_queue_wait_seconds", gpus, 2)
	checkHistogram(t, fams, "easel_inference_queue_wait_seconds", webui, 1)
	checkHistogram(t, fams, "easel_inference_run_seconds", with(gpus, "status", "succeed"), 2)
	checkHistogram(t, fams, "easel_inference_run_seconds", with(webui, "status", "succeed"), 1)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"easel_worker_model_downloads_total", map[string]string{"pool": "gpus"}, 1},
		{"easel_worker_model_cache_hits_total", map[string]string{"pool": "gpus"}, 1},
		{"easel_inferences", map[string]string{"status": "succeed", "backend": "workers"}, 2},
		{"easel_inferences", map[string]string{"status": "succeed", "backend": "webui"}, 1},
		{"easel_endpoints", map[string]string{"status": "InService", "backend": "workers"}, 1},
		{"easel_endpoints", map[string]string{"status": "InService", "backend": "webui"}, 1},
		{"easel_workers_online", map[string]string{"pool": "gpus"}, 1},
		{"easel_state_query_errors_total", nil, 0},
	} {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams["easel_inference_run_seconds"].GetType() != dto.MetricType_HISTOGRAM || fams["easel_inferences"].GetType() != dto.MetricType_GAUGE {
		t.Error("job metrics have the wrong types")
	}
	checkDashboard(t, fams)
}

func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range labels {
		out[a] = b
	}
	return out
}

// checkDashboard reads docs/grafana-dashboard.json: a Grafana dashboard
// whose panels query Prometheus, every metric they name present in fams.
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID           string `json:"uid"`
		Title         string `json:"title"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			Type    string         `json:"type"`
			Title   string         `json:"title"`
			GridPos map[string]int `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json is not JSON: %v", err)
	}
	if dash.UID == "" || dash.Title == "" || dash.SchemaVersion < 30 || len(dash.Panels) < 10 {
		t.Fatalf("dashboard uid %q title %q schemaVersion %d, %d panels", dash.UID, dash.Title, dash.SchemaVersion, len(dash.Panels))
	}
	name := regexp.MustCompile(`\b(?:easel|go|process)_[a-z0-9_]+\b`)
	seen := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.GridPos["w"] == 0 || p.GridPos["h"] == 0 || len(p.Targets) == 0 {
			t.Errorf("panel %q: no title, size or query", p.Title)
		}
		for _, q := range p.Targets {
			if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") || strings.Count(q.Expr, "{") != strings.Count(q.Expr, "}") {
				t.Errorf("panel %q: unbalanced query %q", p.Title, q.Expr)
			}
			for _, m := range name.FindAllString(q.Expr, -1) {
				seen[m] = true
				family := m
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(m, suffix); ok && fams[base].GetType() == dto.MetricType_HISTOGRAM {
						family = base
					}
				}
				if fams[family] == nil {
					t.Errorf("panel %q queries %s, which the scrape does not have", p.Title, m)
				}
			}
		}
	}
	for f := range fams {
		if strings.HasPrefix(f, "easel_") && !seen[f] && !seen[f+"_bucket"] && !seen[f+"_count"] {
			t.Errorf("the dashboard does not show %s", f)
		}
	}
}
