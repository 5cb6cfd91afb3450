package web_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"easel/internal/testenv"
)

// uploadParts PUTs chunks to presigned part URLs and returns the tags.
func uploadParts(t *testing.T, urls []any, chunks [][]byte) []map[string]any {
	t.Helper()
	if len(urls) != len(chunks) {
		t.Fatalf("got %d part URLs, want %d", len(urls), len(chunks))
	}
	var tags []map[string]any
	for i, u := range urls {
		req, _ := http.NewRequest(http.MethodPut, u.(string), bytes.NewReader(chunks[i]))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT part %d: %v", i+1, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("ETag") == "" {
			t.Fatalf("PUT part %d: %d %s (ETag %q)", i+1, res.StatusCode, body, res.Header.Get("ETag"))
		}
		tags = append(tags, map[string]any{"ETag": res.Header.Get("ETag"), "PartNumber": i + 1})
	}
	return tags
}

func randomChunks(t *testing.T, sizes ...int) ([][]byte, []byte) {
	t.Helper()
	var chunks [][]byte
	var all []byte
	for _, n := range sizes {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, b)
		all = append(all, b...)
	}
	return chunks, all
}

// startUpload POSTs one file of n parts and returns the checkpoint id and part URLs.
func startUpload(t *testing.T, s *testenv.Server, h testenv.Headers, name string, parts int) (string, []any) {
	t.Helper()
	r := s.MustCall(t, 201, "POST", "/checkpoints", h, map[string]any{
		"checkpoint_type": "Lora", "filenames": []map[string]any{{"filename": name, "parts_number": parts}},
		"params": map[string]any{"message": "test upload", "creator": h["username"]},
	})
	data := r.JSON(t)["data"].(map[string]any)
	ck := data["checkpoint"].(map[string]any)
	if ck["status"] != "Initial" || !strings.HasSuffix(ck["s3_location"].(string), ck["id"].(string)) {
		t.Errorf("created checkpoint = %v", ck)
	}
	return ck["id"].(string), data["s3PresignUrl"].(map[string]any)[name].([]any)
}

func checkpointsOf(t *testing.T, s *testenv.Server, h testenv.Headers, query string) []map[string]any {
	t.Helper()
	r := s.MustCall(t, 200, "GET", "/checkpoints"+query, h, nil)
	var out []map[string]any
	for _, c := range r.JSON(t)["data"].(map[string]any)["checkpoints"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func TestCheckpointUploadThroughPresignedParts(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	id, urls := startUpload(t, s, admin, "style.safetensors", 3)
	chunks, whole := randomChunks(t, 5<<20, 5<<20, 1234)
	tags := uploadParts(t, urls, chunks)

	// Bad completions change nothing.
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"no tags", map[string]any{"status": "Active"}, "multi parts tags is empty"},
		{"missing part", map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": tags[:2]}}, "part 3 of 3 of style.safetensors is missing"},
		{"swapped ETags", map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": []map[string]any{
			{"ETag": tags[1]["ETag"], "PartNumber": 1}, {"ETag": tags[0]["ETag"], "PartNumber": 2}, tags[2]}}}, "could not be completed"},
		{"empty ETag", map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": []map[string]any{{"ETag": "", "PartNumber": 1}}}}, "has no ETag"},
		{"unknown status", map[string]any{"status": "Ready", "multi_parts_tags": map[string]any{"style.safetensors": tags}}, `invalid status "Ready"`},
	} {
		r := s.MustCall(t, 400, "PUT", "/checkpoints/"+id, admin, tc.body)
		if !strings.Contains(r.Message(t), tc.want) {
			t.Errorf("%s: message %q, want it to contain %q", tc.name, r.Message(t), tc.want)
		}
	}
	if got := checkpointsOf(t, s, admin, "")[0]["status"]; got != "Initial" {
		t.Fatalf("status after refused completions = %v, want Initial", got)
	}

	// While another completion is in progress (marked, no lock held), a
	// second one is refused; a mark older than the stale bound is taken over.
	mark := func(ago time.Duration) {
		t.Helper()
		if _, err := s.App.Store.DB().Exec(t.Context(), `UPDATE checkpoints SET completing_since = $2 WHERE id = $1`, id, time.Now().Add(-ago)); err != nil {
			t.Fatal(err)
		}
	}
	mark(time.Second)
	r := s.MustCall(t, 400, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": tags}})
	if !strings.Contains(r.Message(t), "is being completed already") {
		t.Errorf("completion during another: %q", r.Message(t))
	}
	mark(2 * time.Hour)

	// Parts out of order are sorted before completion.
	reversed := []map[string]any{tags[2], tags[0], tags[1]}
	r = s.MustCall(t, 200, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": reversed}})
	if got := r.JSON(t)["data"].(map[string]any)["checkpoint"].(map[string]any)["status"]; got != "Initial" {
		t.Errorf("PUT echoes status %v, want the previous Initial (ESD quirk)", got)
	}
	r = s.MustCall(t, 400, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"style.safetensors": tags}})
	if !strings.Contains(r.Message(t), "already Active") {
		t.Errorf("second completion: %q", r.Message(t))
	}
	list := checkpointsOf(t, s, admin, "?status=Active")
	if len(list) != 1 || list[0]["id"] != id || list[0]["size"] != fmt.Sprint(len(whole)) {
		t.Fatalf("active checkpoints = %v", list)
	}
	key := strings.TrimPrefix(list[0]["s3Location"].(string), "s3://"+s.App.Blob.Bucket+"/") + "/style.safetensors"
	body, err := s.App.Blob.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, whole) {
		t.Errorf("stored object differs from the uploaded bytes (%d vs %d bytes)", len(got), len(whole))
	}
	// The server hashes the completed upload in the background.
	want := fmt.Sprintf("%x", sha256.Sum256(whole))
	waitFor(t, "the SHA-256 of the upload", func() bool { return checkpointsOf(t, s, admin, "")[0]["sha256"] == want })
	var marked bool
	if err := s.App.Store.DB().QueryRow(t.Context(), `SELECT completing_since IS NOT NULL FROM checkpoints WHERE id = $1`, id).Scan(&marked); err != nil || marked {
		t.Errorf("completion mark left behind: %v %v", marked, err)
	}

	// Disable and enable again; rename.
	s.MustCall(t, 200, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Disabled", "multi_parts_tags": map[string]any{"x": []any{}}})
	s.MustCall(t, 400, "PUT", "/checkpoints/"+id, admin, map[string]any{"name": "renamed.safetensors"})
	s.MustCall(t, 200, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"x": []any{}}})
	if r := s.MustCall(t, 200, "PUT", "/checkpoints/"+id, admin, map[string]any{"name": "style.safetensors"}); r.Message(t) != "no need to update" {
		t.Errorf("same-name rename: %q", r.Message(t))
	}
	s.MustCall(t, 202, "PUT", "/checkpoints/"+id, admin, map[string]any{"name": "renamed.safetensors"})
	newKey := strings.TrimSuffix(key, "style.safetensors") + "renamed.safetensors"
	waitFor(t, "renamed object", func() bool {
		n, err := s.App.Blob.Head(t.Context(), newKey)
		return err == nil && n == int64(len(whole))
	})
	waitFor(t, "old object gone", func() bool { _, err := s.App.Blob.Head(t.Context(), key); return err != nil })

	// Delete frees the name at once and removes the objects.
	s.MustCall(t, 204, "DELETE", "/checkpoints", admin, map[string]any{"checkpoint_id_list": []string{id, "not-a-uuid", "7e759754-0000-4000-8000-000000000000"}})
	startUpload(t, s, admin, "renamed.safetensors", 1)
	waitFor(t, "objects deleted", func() bool { _, err := s.App.Blob.Head(t.Context(), newKey); return err != nil })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCheckpointBadInput(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	startUpload(t, s, admin, "taken.ckpt", 1)
	files := func(name string, parts int) map[string]any {
		return map[string]any{"checkpoint_type": "VAE", "filenames": []map[string]any{{"filename": name, "parts_number": parts}}, "params": map[string]any{"creator": "admin"}}
	}
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"0 parts", "POST", "/checkpoints", files("a.ckpt", 0), 400, "numeric instance is lower than the required minimum (minimum: 1, found: 0)"},
		{"101 parts", "POST", "/checkpoints", files("a.ckpt", 101), 400, "numeric instance is greater than the required maximum (maximum: 100, found: 101)"},
		{"unknown type", "POST", "/checkpoints", map[string]any{"checkpoint_type": "Unet", "filenames": []map[string]any{{"filename": "a", "parts_number": 1}}}, 400, `instance value ("Unet") not found in enum`},
		{"path separator", "POST", "/checkpoints", files("../../etc/passwd", 1), 400, "must not contain path separators"},
		{"dot dot", "POST", "/checkpoints", files("..", 1), 400, "must not contain path separators"},
		{"empty filename", "POST", "/checkpoints", files("", 1), 400, `string "" is too short`},
		{"name clash", "POST", "/checkpoints", files("taken.ckpt", 1), 400, "taken.ckpt already exists, please use another or rename/delete exists"},
		{"same name twice", "POST", "/checkpoints", map[string]any{"checkpoint_type": "VAE", "filenames": []map[string]any{{"filename": "x.pt", "parts_number": 1}, {"filename": "x.pt", "parts_number": 1}}}, 400, "x.pt already exists"},
		{"neither files nor urls", "POST", "/checkpoints", map[string]any{"checkpoint_type": "VAE", "params": map[string]any{"creator": "admin"}}, 400, "filenames or urls is required"},
		{"non-numeric page", "GET", "/checkpoints?page=two", nil, 400, `page must be a whole number from 1 to`},
		{"per_page=0", "GET", "/checkpoints?per_page=0", nil, 400, "per_page must be a whole number from 1 to 1000"},
		{"unknown user filter", "GET", "/checkpoints?username=ghost", nil, 400, `user: "ghost" not exist`},
		{"PUT unknown id", "PUT", "/checkpoints/7e759754-0000-4000-8000-000000000000", map[string]any{"status": "Active"}, 404, "checkpoint not found with id 7e759754-0000-4000-8000-000000000000"},
		{"PUT malformed id", "PUT", "/checkpoints/abc'--", map[string]any{"status": "Active"}, 404, "checkpoint not found with id abc'--"},
		{"1000 ids", "DELETE", "/checkpoints", map[string]any{"checkpoint_id_list": ids}, 400, "array is too long (must have at most 100 elements but instance has 1000 elements)"},
		{"ftp URL", "POST", "/checkpoints", map[string]any{"checkpoint_type": "Lora", "urls": []string{"ftp://example.com/a.safetensors"}}, 400, "only http and https"},
		{"metadata URL", "POST", "/checkpoints", map[string]any{"checkpoint_type": "Lora", "urls": []string{"http://169.254.169.254/latest/x.safetensors"}}, 400, "not allowed"},
		{"not a model file", "POST", "/checkpoints", map[string]any{"checkpoint_type": "Lora", "urls": []string{"https://example.com/readme.txt"}}, 400, "is not a model file"},
	} {
		r := s.Call(t, tc.method, tc.path, admin, tc.body)
		if r.Status != tc.status || !strings.Contains(r.Message(t), tc.want) {
			t.Errorf("%s: got %d %q, want %d containing %q", tc.name, r.Status, r.Message(t), tc.status, tc.want)
		}
	}
	if n := len(checkpointsOf(t, s, admin, "")); n != 1 {
		t.Errorf("checkpoints after bad input = %d, want 1", n)
	}
	uploads, err := s.App.Blob.ListMultipartUploads(t.Context(), "VAE/")
	if err != nil || len(uploads) != 0 {
		t.Errorf("open uploads left by refused requests: %v %v", uploads, err)
	}
}

func TestCheckpointVisibility(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "artists", "checkpoint:create", "checkpoint:list")
	mustRole(t, s, "writers", "checkpoint:create", "checkpoint:list")
	mustRole(t, s, "auditors", "user:all", "checkpoint:list")
	mustUser(t, s, "admin", "ann", "artists")
	mustUser(t, s, "admin", "art", "artists")
	mustUser(t, s, "admin", "wes", "writers")
	mustUser(t, s, "admin", "aud", "auditors")
	id, _ := startUpload(t, s, testenv.As("ann"), "ann.safetensors", 1)

	for _, tc := range []struct {
		who  string
		h    testenv.Headers
		want int
	}{
		{"owner", testenv.As("ann"), 1},
		{"same role", testenv.As("art"), 1},
		{"other role", testenv.As("wes"), 0},
		{"user:all", testenv.As("aud"), 1},
	} {
		if got := len(checkpointsOf(t, s, tc.h, "")); got != tc.want {
			t.Errorf("%s sees %d checkpoints, want %d", tc.who, got, tc.want)
		}
	}
	s.MustCall(t, 401, "GET", "/checkpoints", testenv.Key(testenv.ServiceKey), nil)
	s.MustCall(t, 403, "GET", "/checkpoints?username=ann", testenv.As("wes"), nil)
	if got := len(checkpointsOf(t, s, testenv.As("admin"), "?username=wes")); got != 0 {
		t.Errorf("admin filtering as wes sees %d, want 0: the filter shows what wes sees", got)
	}
	// Someone else's checkpoint: invisible → 404; visible but not theirs → 403.
	s.MustCall(t, 404, "PUT", "/checkpoints/"+id, testenv.As("wes"), map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"x": []any{}}})
	r := s.MustCall(t, 403, "PUT", "/checkpoints/"+id, testenv.As("art"), map[string]any{"status": "Active", "multi_parts_tags": map[string]any{"x": []any{}}})
	if r.Message(t) != "User art has no permissions: [checkpoint:all]" {
		t.Errorf("message = %q", r.Message(t))
	}
	s.MustCall(t, 403, "DELETE", "/checkpoints", testenv.As("art"), map[string]any{"checkpoint_id_list": []string{id}})
	s.MustCall(t, 204, "DELETE", "/checkpoints", testenv.As("wes"), map[string]any{"checkpoint_id_list": []string{id}})
	if got := len(checkpointsOf(t, s, testenv.As("ann"), "")); got != 1 {
		t.Errorf("wes's delete of an invisible checkpoint removed it")
	}
}
