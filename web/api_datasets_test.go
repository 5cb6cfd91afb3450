package web_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

// putPresigned PUTs body to a presigned URL without a Content-Type, as ESD
// clients do; the store must answer 200.
func putPresigned(t *testing.T, url string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PUT %s: %d %s", url, res.StatusCode, msg)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	return body
}

// createDataset POSTs a dataset of files (name → bytes) as h and uploads them.
func createDataset(t *testing.T, s *testenv.Server, h testenv.Headers, name, prefix string, files map[string][]byte) {
	t.Helper()
	var content []map[string]any
	for fn := range files {
		content = append(content, map[string]any{"filename": fn, "name": fn, "type": "image", "params": map[string]any{}})
	}
	r := s.MustCall(t, 201, "POST", "/datasets", h, map[string]any{"dataset_name": name, "content": content,
		"prefix": prefix, "params": map[string]any{"description": "about " + name}, "creator": h["username"]})
	data := r.JSON(t)["data"].(map[string]any)
	if data["datasetName"] != name {
		t.Fatalf("create answer = %s", r.Body)
	}
	urls := data["s3PresignUrl"].(map[string]any)
	if len(urls) != len(files) {
		t.Fatalf("presigned URLs = %v", urls)
	}
	for fn, body := range files {
		putPresigned(t, urls[fn].(string), body)
	}
}

func datasetNames(t *testing.T, s *testenv.Server, h testenv.Headers, query string) []string {
	t.Helper()
	return listNames(t, s.MustCall(t, 200, "GET", "/datasets"+query, h, nil), "datasets", "datasetName")
}

func TestDatasetLifecycle(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	img := pngBytes(t, 40, 30, nil)
	createDataset(t, s, admin, "technic", "10_technic", map[string][]byte{"1.png": img, "1.txt": []byte("a cat")})

	r := s.MustCall(t, 200, "GET", "/datasets/technic", admin, nil)
	d := r.JSON(t)["data"].(map[string]any)
	if d["prefix"] != "10_technic" || d["status"] != "Initialed" || d["description"] != "about technic" ||
		d["s3"] != "s3://"+s.App.Blob.Bucket+"/dataset/technic/10_technic" || d["dataset_name"] != "technic" {
		t.Errorf("dataset = %v", d)
	}
	recs := d["data"].([]any)
	if len(recs) != 2 {
		t.Fatalf("records = %v", recs)
	}
	first := recs[0].(map[string]any)
	if !strings.HasSuffix(first["key"].(string), "_1.png") || first["original_file_name"] != "1.png" || first["dataStatus"] != "Initialed" {
		t.Errorf("first record = %v", first)
	}
	if got := httpGet(t, first["preview_url"].(string)); !bytes.Equal(got, img) {
		t.Errorf("preview gives %d bytes, want the upload", len(got))
	}

	r = s.MustCall(t, 200, "PUT", "/datasets/technic", testenv.Key(testenv.ServiceKey), map[string]any{"status": "Enabled"})
	if got := r.JSON(t)["data"].(map[string]any); got["status"] != "Enabled" || got["datasetName"] != "technic" {
		t.Errorf("PUT answer = %v", got)
	}
	if got := datasetNames(t, s, admin, "?dataset_status=Enabled"); !slices.Equal(got, []string{"technic"}) {
		t.Errorf("enabled datasets = %v", got)
	}
	if got := datasetNames(t, s, admin, "?dataset_status=Disabled"); len(got) != 0 {
		t.Errorf("disabled datasets = %v", got)
	}
	// The background job records sizes and hashes and makes a thumbnail
	// outside the dataset's folder.
	var files []store.DatasetFile
	waitFor(t, "file facts", func() bool {
		files, _ = store.DatasetFiles(t.Context(), s.App.Store.DB(), "technic")
		return len(files) == 2 && files[0].SHA256 != "" && files[1].SHA256 != ""
	})
	if files[0].Thumbnail == "" || !strings.HasPrefix(files[0].Thumbnail, "thumbnails/dataset/technic/") || files[1].Thumbnail != "" {
		t.Errorf("thumbnails = %q, %q", files[0].Thumbnail, files[1].Thumbnail)
	}
	if *files[0].Size != int64(len(img)) || files[0].Status != "Enabled" {
		t.Errorf("file = %+v", files[0])
	}
	thumb := files[0].Thumbnail

	// ESD's DELETE needs only the key (the service principal).
	s.MustCall(t, 204, "DELETE", "/datasets", testenv.Key(testenv.ServiceKey), map[string]any{"dataset_name_list": []string{"technic", "never-was"}})
	s.MustCall(t, 404, "GET", "/datasets/technic", admin, nil)
	for _, key := range []string{"dataset/technic/10_technic/1.png", thumb} {
		if _, err := s.App.Blob.Head(t.Context(), key); err == nil {
			t.Errorf("%s survived the delete", key)
		}
	}
}

func TestDatasetListPagesAndIdentity(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	admin := testenv.As("admin")
	for _, n := range []string{"first", "second", "third"} {
		createDataset(t, s, admin, n, "", map[string][]byte{"a.txt": []byte(n)})
	}
	if got := datasetNames(t, s, admin, ""); !slices.Equal(got, []string{"third", "second", "first"}) {
		t.Errorf("all datasets = %v", got)
	}
	r := s.MustCall(t, 200, "GET", "/datasets?limit=2", admin, nil)
	data := r.JSON(t)["data"].(map[string]any)
	key, _ := data["last_evaluated_key"].(string)
	if got := listNames(t, r, "datasets", "datasetName"); !slices.Equal(got, []string{"third", "second"}) || key == "" {
		t.Fatalf("page 1 = %v, key %q", got, key)
	}
	r = s.MustCall(t, 200, "GET", "/datasets?limit=2&exclusive_start_key="+key, admin, nil)
	if got := listNames(t, r, "datasets", "datasetName"); !slices.Equal(got, []string{"first"}) ||
		r.JSON(t)["data"].(map[string]any)["last_evaluated_key"] != nil {
		t.Errorf("page 2 = %s", r.Body)
	}
	it := r.JSON(t)["data"].(map[string]any)["datasets"].([]any)[0].(map[string]any)
	if ts, _ := it["timestamp"].(string); !strings.Contains(ts, ".") || it["description"] != "about first" || it["s3"] != "s3://"+s.App.Blob.Bucket+"/dataset/first" {
		t.Errorf("item = %v", it)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?exclusive_start_key=nonsense!"} {
		s.MustCall(t, 400, "GET", "/datasets"+q, admin, nil)
	}
	// Lists and creation act for a user: a bare service key gets 401.
	s.MustCall(t, 401, "GET", "/datasets", testenv.Key(testenv.ServiceKey), nil)
	s.MustCall(t, 401, "POST", "/datasets", testenv.Key(testenv.ServiceKey), map[string]any{"dataset_name": "x", "content": []map[string]any{{"filename": "a.png"}}})
	// The body's creator names the user of a header-less service-key call.
	s.MustCall(t, 201, "POST", "/datasets", testenv.Key(testenv.ServiceKey), map[string]any{"dataset_name": "bycreator", "creator": "admin", "content": []map[string]any{{"filename": "a.png"}}})
	ds, err := store.GetDataset(t.Context(), s.App.Store.DB(), "bycreator")
	if err != nil || ds.Creator != "admin" || ds.Prefix != "" {
		t.Errorf("bycreator = %+v, %v", ds, err)
	}
	s.MustCall(t, 401, "POST", "/datasets", testenv.Key(testenv.ServiceKey), map[string]any{"dataset_name": "ghost", "creator": "nobody", "content": []map[string]any{{"filename": "a.png"}}})
}
