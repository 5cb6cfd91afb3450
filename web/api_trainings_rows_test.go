package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestTrainingVisibility: rows belong to the creator's roles; the lists
// and GET /trainings/{id} show only those, train:all does not widen it,
// and DELETE needs train:all or one's own row.
func TestTrainingVisibility(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	mustRole(t, s, "team-a", "train:create", "train:list")
	mustRole(t, s, "team-b", "train:create", "train:list")
	mustRole(t, s, "ops", "train:all")
	mustUser(t, s, "admin", "alice", "team-a")
	mustUser(t, s, "admin", "dave", "team-a")
	mustUser(t, s, "admin", "bob", "team-b")
	mustUser(t, s, "admin", "olga", "ops")
	mustUser(t, s, "admin", "lead", "team-a", "ops")
	alice, dave, bob, olga, lead := testenv.As("alice"), testenv.As("dave"), testenv.As("bob"), testenv.As("olga"), testenv.As("lead")
	a := createTraining(t, s, alice, trainingBody("alice-lora"))
	b := createTraining(t, s, bob, trainingBody("bob-lora"))

	for _, c := range []struct {
		who  string
		h    testenv.Headers
		want []string
	}{
		{"alice", alice, []string{a}}, {"dave (same role)", dave, []string{a}}, {"bob", bob, []string{b}},
		{"olga (train:all only)", olga, nil}, {"admin (user:all)", testenv.As("admin"), []string{b, a}},
	} {
		if got := trainingIDs(t, s, c.h, ""); !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v", c.who, got, c.want)
		}
	}
	if got := s.MustCall(t, 404, "GET", "/trainings/"+b, alice, nil).Message(t); got != "Job with id "+b+" not found" {
		t.Errorf("invisible GET: %q", got)
	}
	getTraining(t, s, testenv.Key(testenv.ServiceKey), b) // the service principal sees every row
	for _, bad := range []string{"nope", "7E759754-0000-4000-8000-000000000000", "7e759754-0000-4000-8000-000000000000"} {
		if got := s.MustCall(t, 404, "GET", "/trainings/"+bad, alice, nil).Message(t); got != "Job with id "+bad+" not found" {
			t.Errorf("GET %s: %q", bad, got)
		}
	}

	// Invisible rows are skipped; another's visible row needs train:all.
	s.MustCall(t, 204, "DELETE", "/trainings", alice, map[string]any{"training_id_list": []string{b}})
	getTraining(t, s, bob, b)
	if got := s.MustCall(t, 403, "DELETE", "/trainings", dave, map[string]any{"training_id_list": []string{a}}).Message(t); got != "User dave has no permissions: [train:all]" {
		t.Errorf("dave deleting alice's: %q", got)
	}
	getTraining(t, s, alice, a)
	s.MustCall(t, 204, "DELETE", "/trainings", lead, map[string]any{"training_id_list": []string{a}})
	s.MustCall(t, 404, "GET", "/trainings/"+a, alice, nil)
	s.MustCall(t, 204, "DELETE", "/trainings", bob, map[string]any{"training_id_list": []string{b}})
	s.MustCall(t, 404, "GET", "/trainings/"+b, bob, nil)
}

// TestTrainingPagination: newest first over every visible row, pages
// by last_evaluated_key (null on the last), everything without limit,
// bad paging refused.
func TestTrainingPagination(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	admin := testenv.As("admin")
	var ids []string
	for i := range 3 {
		ids = append([]string{createTraining(t, s, admin, trainingBody(fmt.Sprintf("page-%d", i)))}, ids...)
	}
	if got := trainingIDs(t, s, admin, ""); !slices.Equal(got, ids) {
		t.Errorf("all = %v, want %v", got, ids)
	}
	if got := trainingIDs(t, s, admin, "?limit=0"); !slices.Equal(got, ids) {
		t.Errorf("limit=0 = %v, want %v", got, ids)
	}
	first := s.MustCall(t, 200, "GET", "/trainings?limit=2", admin, nil).JSON(t)["data"].(map[string]any)
	key, _ := first["last_evaluated_key"].(string)
	if got := listNames(t, s.MustCall(t, 200, "GET", "/trainings?limit=2", admin, nil), "trainings", "id"); !slices.Equal(got, ids[:2]) || key == "" {
		t.Fatalf("page 1 = %v (key %q), want %v", got, key, ids[:2])
	}
	second := s.MustCall(t, 200, "GET", "/trainings?limit=2&exclusive_start_key="+key, admin, nil)
	if got := listNames(t, second, "trainings", "id"); !slices.Equal(got, ids[2:]) {
		t.Errorf("page 2 = %v, want %v", got, ids[2:])
	}
	if k := second.JSON(t)["data"].(map[string]any)["last_evaluated_key"]; k != nil {
		t.Errorf("last page key = %v, want null", k)
	}
	exact := s.MustCall(t, 200, "GET", "/trainings?limit=3", admin, nil).JSON(t)["data"].(map[string]any)
	if exact["last_evaluated_key"] != nil {
		t.Errorf("a page that ends the list has key %v", exact["last_evaluated_key"])
	}
	for _, q := range []string{"?limit=ten", "?limit=-1", "?limit=1001", "?exclusive_start_key=garbage", "?exclusive_start_key=12_nope"} {
		s.MustCall(t, 400, "GET", "/trainings"+q, admin, nil)
	}
}

// TestTrainingDelete: stop, objects and record go; unknown ids are
// skipped; bad bodies are refused after the key check.
func TestTrainingDelete(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	admin := testenv.As("admin")
	id := createTraining(t, s, admin, trainingBody("doomed"))
	keep := createTraining(t, s, admin, trainingBody("kept"))
	if err := s.App.Blob.Put(t.Context(), "kohya/train/"+id+"/logs/events.out", []byte("log"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	s.MustCall(t, 204, "DELETE", "/trainings", admin, map[string]any{"training_id_list": []string{id, id, "7e759754-0000-4000-8000-000000000000"}})
	s.MustCall(t, 404, "GET", "/trainings/"+id, admin, nil)
	waitFor(t, "the training's objects deleted", func() bool {
		objs, err := s.App.Blob.ObjectsUnder(t.Context(), "kohya/train/"+id, 10)
		return err == nil && len(objs) == 0
	})
	if objs, _ := s.App.Blob.ObjectsUnder(t.Context(), "kohya/train/"+keep, 10); len(objs) != 1 {
		t.Errorf("the other training's objects = %v", objs)
	}
	// Its output name is free again.
	createTraining(t, s, admin, trainingBody("doomed"))

	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{}, `[object has missing required properties (["training_id_list"])]`},
		{map[string]any{"training_id_list": []string{"id"}}, `[ECMA 262 regex "^[a-f0-9|-]{36}$" does not match input string "id"]`},
		{map[string]any{"training_id_list": []string{}}, `[array is too short (must have at least 1 elements but instance has 0 elements)]`},
	} {
		// Every piece of want (split at |) in order: how the pattern's
		// backslash is quoted is the schema validator's business.
		got := s.MustCall(t, 400, "DELETE", "/trainings", admin, c.body).Message(t)
		rest := got
		for _, piece := range strings.Split(c.want, "|") {
			i := strings.Index(rest, piece)
			if i < 0 {
				rest = "\x00"
				break
			}
			rest = rest[i+len(piece):]
		}
		if rest != "" {
			t.Errorf("DELETE %v: %q, want %q", c.body, got, c.want)
		}
	}
	if r := s.Call(t, "DELETE", "/trainings", testenv.Headers{}, map[string]any{"training_id_list": []string{"id"}}); r.Status != 403 {
		t.Errorf("no key and a bad body: %d, want 403", r.Status)
	}
	// The service principal may delete.
	s.MustCall(t, 204, "DELETE", "/trainings", testenv.Key(testenv.ServiceKey), map[string]any{"training_id_list": []string{keep}})
	s.MustCall(t, 404, "GET", "/trainings/"+keep, admin, nil)
}
