package web_test

import (
	"context"
	"errors"
	"testing"

	"github.com/BurntSushi/toml"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/trainer"
)

// trainingServer is a server with two worker pools: "gpus", whose worker
// (registered through the worker protocol) can train, and "idle", whose
// worker cannot; the base model base.safetensors (with its SHA-256
// known) and the dataset "cats" (prefix 10_cats).
func trainingServer(t *testing.T) *testenv.Server {
	t.Helper()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_WORKER_POOLS", "gpus,idle"),
		testenv.WithEnv("EASEL_TRAIN_INSTANCE_TYPE", "gpus"))
	for _, pool := range []string{"gpus", "idle"} {
		key, _, err := s.App.Actions.Keys.Create(context.Background(), policy.Principal{Service: true},
			actions.KeyInput{Name: pool + "-box", Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		w := &protoWorker{t: t, url: s.URL, key: key}
		w.hello(pool + "-1")
		if pool == "gpus" {
			// A worker started with --sd-scripts says so in its hello.
			if _, err := s.App.Store.DB().Exec(t.Context(), `UPDATE workers SET can_train = true WHERE id = $1`, w.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustActiveModel(t, s, "Stable-diffusion", "base.safetensors")
	waitFor(t, "the base model's SHA-256", func() bool {
		for _, c := range checkpointsOf(t, s, testenv.As("admin"), "") {
			if c["sha256"] != nil && c["sha256"] != "" {
				return true
			}
		}
		return false
	})
	createDataset(t, s, testenv.As("admin"), "cats", "10_cats", map[string][]byte{"1.png": tinyPNG(t), "1.txt": []byte("a cat")})
	return s
}

// trainingBody is a POST /trainings body training output on "cats".
func trainingBody(output string) map[string]any {
	return map[string]any{
		"lora_train_type": "kohya",
		"params": map[string]any{
			"training_params": map[string]any{"training_instance_type": "gpus", "model": "base.safetensors",
				"dataset": "cats", "fm_type": "sd_1_5"},
			"config_params":      map[string]any{"output_name": output, "save_every_n_epochs": 1, "max_train_epochs": 2},
			"enable_wd14_tagger": false,
			"wd14_tagger_params": map[string]any{"general_threshold": "0.7", "character_threshold": "0.7"},
		},
	}
}

// params returns the map at the dotted path of a training body.
func params(body map[string]any, path ...string) map[string]any {
	m := body["params"].(map[string]any)
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// createTraining creates a training as h and returns its id.
func createTraining(t *testing.T, s *testenv.Server, h testenv.Headers, body map[string]any) string {
	t.Helper()
	data := s.MustCall(t, 201, "POST", "/trainings", h, body).JSON(t)["data"].(map[string]any)
	return data["id"].(string)
}

func getTraining(t *testing.T, s *testenv.Server, h testenv.Headers, id string) map[string]any {
	t.Helper()
	return s.MustCall(t, 200, "GET", "/trainings/"+id, h, nil).JSON(t)["data"].(map[string]any)
}

func trainingIDs(t *testing.T, s *testenv.Server, h testenv.Headers, query string) []string {
	t.Helper()
	return listNames(t, s.MustCall(t, 200, "GET", "/trainings"+query, h, nil), "trainings", "id")
}

// tomlTraining reads the [training] table of the TOML at key.
func tomlTraining(t *testing.T, s *testenv.Server, key string) map[string]any {
	t.Helper()
	var doc map[string]any
	if _, err := toml.Decode(string(readObject(t, s, key)), &doc); err != nil {
		t.Fatalf("TOML at %s: %v", key, err)
	}
	return doc["training"].(map[string]any)
}

// refusingBackend is a SageMaker backend that refuses every job.
type refusingBackend struct{}

func (refusingBackend) Kind() string { return trainer.SageMaker }
func (refusingBackend) Start(context.Context, trainer.Job) (string, error) {
	return "", errors.New("ResourceLimitExceeded: no ml.g5.2xlarge capacity")
}
func (refusingBackend) Stop(context.Context, string, string) error { return nil }
