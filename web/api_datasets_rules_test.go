package web_test

import (
	"slices"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

func TestDatasetBadInput(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	one := []map[string]any{{"filename": "a.png"}}
	body := func(name string, content any, extra ...any) map[string]any {
		b := map[string]any{"dataset_name": name, "content": content}
		for i := 0; i+1 < len(extra); i += 2 {
			b[extra[i].(string)] = extra[i+1]
		}
		return b
	}
	cases := []struct {
		body any
		want string
	}{
		{map[string]any{"content": one}, `missing required properties (["dataset_name"])`},
		{body("1abc", one), `ECMA 262 regex "^[A-Za-z][A-Za-z0-9_-]*$" does not match input string "1abc"`},
		{body("a/b", one), `does not match input string "a/b"`},
		{body(strings.Repeat("a", 21), one), "21"},
		{body("ok", []any{}), "array is too short"},
		{body("ok", []map[string]any{{"name": "a.png"}}), `missing required properties (["filename"])`},
		{body("ok", []map[string]any{{"filename": "../a.png"}}), "path separators"},
		{body("ok", []map[string]any{{"filename": ".."}}), "path separators"},
		{body("ok", []map[string]any{{"filename": "a.png", "name": "x\\y"}}), "path separators"},
		{body("ok", []map[string]any{{"filename": "a.png"}, {"filename": "a.png"}}), "duplicate file name a.png"},
		{body("ok", one, "prefix", "../up"), "prefix"},
		{body("ok", one, "prefix", "/abs"), "prefix"},
		{body("ok", one, "prefix", `a\b`), "prefix"},
	}
	for _, c := range cases {
		r := s.MustCall(t, 400, "POST", "/datasets", admin, c.body)
		if msg := r.Message(t); !strings.Contains(msg, c.want) {
			t.Errorf("POST %v: message %q lacks %q", c.body, msg, c.want)
		}
	}
	if _, err := store.GetDataset(t.Context(), s.App.Store.DB(), "ok"); err == nil {
		t.Error("a refused dataset was stored")
	}
	createDataset(t, s, admin, "known", "", map[string][]byte{"a.txt": []byte("x")})

	r := s.MustCall(t, 400, "PUT", "/datasets/known", admin, map[string]any{"status": "Active"})
	if got := r.Message(t); got != `[instance value ("Active") not found in enum (possible values: ["Initialed","Enabled","Disabled"])]` {
		t.Errorf("bad status message = %q", got)
	}
	s.MustCall(t, 400, "PUT", "/datasets/known", admin, map[string]any{})
	r = s.MustCall(t, 404, "PUT", "/datasets/unknown", admin, map[string]any{"status": "Enabled"})
	if r.Message(t) != "dataset unknown is not found" {
		t.Errorf("404 message = %q", r.Message(t))
	}
	s.MustCall(t, 404, "GET", "/datasets/unknown", admin, nil)
	s.MustCall(t, 404, "POST", "/datasets/unknown/crop", admin, map[string]any{"max_resolution": "512x512"})
	for _, res := range []string{"512", "512X512", "0x5", "512x512x1", "99999x5"} {
		s.MustCall(t, 400, "POST", "/datasets/known/crop", admin, map[string]any{"max_resolution": res})
	}
	r = s.MustCall(t, 400, "DELETE", "/datasets", admin, map[string]any{})
	if !strings.Contains(r.Message(t), `object has missing required properties (["dataset_name_list"])`) {
		t.Errorf("DELETE without list: %q", r.Message(t))
	}
	// The key comes first: no key and a bad body is 403.
	r = s.MustCall(t, 403, "DELETE", "/datasets", testenv.Headers{}, map[string]any{"nope": 1})
	if r.Message(t) != "Forbidden" {
		t.Errorf("keyless DELETE = %s", r.Body)
	}
	if _, err := store.GetDataset(t.Context(), s.App.Store.DB(), "known"); err != nil {
		t.Errorf("known dataset after refused calls: %v", err)
	}
}

// Row visibility: the creator's roles own a dataset; a member sees it, an
// outsider neither sees nor addresses it, user:all sees all, and only the
// creator or train:all may delete or replace it.
func TestDatasetVisibility(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	mustRole(t, s, "painters", "train:create", "train:list")
	mustRole(t, s, "outsiders", "train:all")
	mustRole(t, s, "auditors", "train:list", "user:all")
	mustRole(t, s, "viewers", "train:list")
	mustUser(t, s, "admin", "carol", "painters")
	mustUser(t, s, "admin", "dave", "painters")
	mustUser(t, s, "admin", "erin", "outsiders")
	mustUser(t, s, "admin", "ivy", "auditors")
	mustUser(t, s, "admin", "vic", "viewers")
	carol, dave, erin, ivy, vic := testenv.As("carol"), testenv.As("dave"), testenv.As("erin"), testenv.As("ivy"), testenv.As("vic")
	createDataset(t, s, carol, "carols", "", map[string][]byte{"a.txt": []byte("x")})
	ds, _ := store.GetDataset(t.Context(), s.App.Store.DB(), "carols")
	if !slices.Equal(ds.AllowedRoles, []string{"painters"}) || ds.Creator != "carol" {
		t.Errorf("owners = %v by %s", ds.AllowedRoles, ds.Creator)
	}
	for _, who := range []testenv.Headers{carol, dave, ivy, admin} {
		if got := datasetNames(t, s, who, ""); !slices.Contains(got, "carols") {
			t.Errorf("%s does not list carols: %v", who["username"], got)
		}
		s.MustCall(t, 200, "GET", "/datasets/carols", who, nil)
	}
	s.MustCall(t, 200, "GET", "/datasets/carols", testenv.Key(testenv.ServiceKey), nil)
	if got := datasetNames(t, s, erin, ""); len(got) != 0 {
		t.Errorf("erin lists %v", got)
	}
	r := s.MustCall(t, 403, "GET", "/datasets/carols", erin, nil)
	if r.Message(t) != "no permission to view dataset" {
		t.Errorf("invisible GET = %q", r.Message(t))
	}
	s.MustCall(t, 403, "PUT", "/datasets/carols", erin, map[string]any{"status": "Enabled"})
	s.MustCall(t, 403, "POST", "/datasets/carols/crop", erin, map[string]any{"max_resolution": "8x8"})
	s.MustCall(t, 204, "DELETE", "/datasets", erin, map[string]any{"dataset_name_list": []string{"carols"}})
	// Nor can erin take the name over by re-creating it.
	s.MustCall(t, 400, "POST", "/datasets", erin, map[string]any{"dataset_name": "carols", "content": []map[string]any{{"filename": "b.png"}}})
	// A viewer reads but writes nothing.
	s.MustCall(t, 403, "POST", "/datasets", vic, map[string]any{"dataset_name": "vics", "content": []map[string]any{{"filename": "b.png"}}})
	s.MustCall(t, 403, "DELETE", "/datasets", vic, map[string]any{"dataset_name_list": []string{"carols"}})
	// A role member may enable it but not delete or replace it (train:create on own rows).
	s.MustCall(t, 200, "PUT", "/datasets/carols", dave, map[string]any{"status": "Disabled"})
	r = s.MustCall(t, 403, "DELETE", "/datasets", dave, map[string]any{"dataset_name_list": []string{"carols"}})
	if !strings.Contains(r.Message(t), "train:all") {
		t.Errorf("member DELETE = %q", r.Message(t))
	}
	s.MustCall(t, 403, "POST", "/datasets", dave, map[string]any{"dataset_name": "carols", "content": []map[string]any{{"filename": "b.png"}}})
	if _, err := store.GetDataset(t.Context(), s.App.Store.DB(), "carols"); err != nil {
		t.Fatalf("carols after refused deletes: %v", err)
	}
	s.MustCall(t, 204, "DELETE", "/datasets", carol, map[string]any{"dataset_name_list": []string{"carols"}})
	s.MustCall(t, 404, "GET", "/datasets/carols", carol, nil)
}

// Re-creating a dataset replaces it: old records and objects go.
func TestDatasetReplace(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	createDataset(t, s, admin, "again", "old", map[string][]byte{"old.txt": []byte("old")})
	createDataset(t, s, admin, "again", "", map[string][]byte{"new.txt": []byte("new")})
	files, err := store.DatasetFiles(t.Context(), s.App.Store.DB(), "again")
	if err != nil || len(files) != 1 || files[0].Name != "new.txt" || files[0].ObjectKey != "dataset/again/new.txt" {
		t.Fatalf("files after replace = %+v, %v", files, err)
	}
	if _, err := s.App.Blob.Head(t.Context(), "dataset/again/old/old.txt"); err == nil {
		t.Error("the old object survived the replace")
	}
	if _, err := s.App.Blob.Head(t.Context(), "dataset/again/new.txt"); err != nil {
		t.Errorf("new object: %v", err)
	}
}
