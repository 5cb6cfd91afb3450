package web_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"easel/internal/testenv"
	"easel/store"
)

// galleryJobs runs n txt2img jobs of admin on a simulator pool and waits
// until each has succeeded and has its thumbnails.
func galleryJobs(t *testing.T, s *testenv.Server, n int) []string {
	t.Helper()
	admin := testenv.As("admin")
	s.MustCall(t, 202, "POST", "/endpoints", admin, map[string]any{"endpoint_name": "gallery", "endpoint_type": "Async",
		"instance_type": "studio", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	waitEndpoint(t, s, "esd-async-gallery", "InService")
	var ids []string
	for i := range n {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{"task_type": "txt2img", "inference_type": "Async", "models": map[string]any{}})
		createParams(t, r, map[string]any{"prompt": "a lighthouse, at dusk", "negative_prompt": "fog", "width": 640, "height": 384, "seed": 40 + i})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		ids = append(ids, id)
	}
	for _, id := range ids {
		if job := waitJob(t, s, id); job["status"] != "succeed" {
			t.Fatalf("job %s: %v", id, job)
		}
		waitFor(t, "the thumbnails of "+id, func() bool {
			job, err := store.FindInference(t.Context(), s.App.Store.DB(), uuid.MustParse(id))
			return err == nil && job.Thumbnails
		})
	}
	return ids
}

// pngText returns the tEXt chunk of keyword in a PNG ("" when none).
func pngText(t *testing.T, file []byte, keyword string) string {
	t.Helper()
	for off := 8; off+12 <= len(file); {
		n := int(binary.BigEndian.Uint32(file[off:]))
		if string(file[off+4:off+8]) == "tEXt" {
			k, v, _ := bytes.Cut(file[off+8:off+8+n], []byte{0})
			if string(k) == keyword {
				return string(v)
			}
		}
		off += 12 + n
	}
	return ""
}

func galleryGet(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// TestGalleryThumbnailsAndParameters: each stored PNG carries its A1111
// parameters; the gallery shows thumbnails, served with long cache headers
// to viewers of the job and to nobody else; "Use these settings" opens
// Generate; many jobs are deleted at once, only those the caller sees.
func TestGalleryThumbnailsAndParameters(t *testing.T) {
	t.Parallel()
	s := simPoolServer(t)
	ids := galleryJobs(t, s, 3)
	job := getJob(t, s, testenv.As("admin"), ids[0])
	_, image := galleryGet(t, http.DefaultClient, job["img_presigned_urls"].([]any)[0].(string))
	if got := pngText(t, image, "parameters"); !strings.HasPrefix(got, "a lighthouse, at dusk\nNegative prompt: fog\nSteps: ") || !strings.Contains(got, "Seed: 40, Size: 640x384") {
		t.Errorf("the PNG's parameters chunk: %q", got)
	}

	admin, token := signedIn(t, s)
	_, page := galleryGet(t, admin, s.URL+"/gallery")
	thumb := "/gallery/" + ids[0] + "/thumbs/0.jpg"
	if !strings.Contains(string(page), `src="`+thumb+`"`) || !strings.Contains(string(page), "/gallery/"+ids[0]+"/again") {
		t.Errorf("the gallery does not show the thumbnail %s and Use these settings", thumb)
	}
	res, body := galleryGet(t, admin, s.URL+thumb)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" {
		t.Fatalf("thumbnail: %d %v", res.StatusCode, res.Header)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 320 || cfg.Height != 192 {
		t.Errorf("thumbnail: %+v %v; want a 320x192 JPEG", cfg, err)
	}
	for _, bad := range []string{"/thumbs/1.jpg", "/thumbs/0.png", "/thumbs/-1.jpg"} {
		if res, _ := galleryGet(t, admin, s.URL+"/gallery/"+ids[0]+bad); res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", bad, res.StatusCode)
		}
	}
	res, _ = galleryGet(t, admin, s.URL+"/gallery/"+ids[0]+"/again")
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || !strings.HasPrefix(loc, "/generate?") || !strings.Contains(loc, "seed=40") {
		t.Errorf("use these settings: %d %q", res.StatusCode, loc)
	}

	// Eve may list her own jobs only: admin's thumbnails are not hers.
	mustRole(t, s, "viewers", "inference:list")
	mustUser(t, s, "admin", "eve", "viewers")
	eve, eveToken := consoleClient(t, s)
	if got := login(t, eve, s, eveToken, "eve", "pw-eve"); got != http.StatusSeeOther {
		t.Fatalf("eve's login: %d", got)
	}
	eveToken = pageToken(t, eve, s.URL+"/")
	if res, _ := galleryGet(t, eve, s.URL+thumb); res.StatusCode != 404 {
		t.Errorf("eve fetched admin's thumbnail: %d", res.StatusCode)
	}
	anon, _ := consoleClient(t, s)
	if res, _ := galleryGet(t, anon, s.URL+thumb); res.StatusCode == 200 {
		t.Error("a visitor who is not signed in fetched a thumbnail")
	}
	deleteMany := func(c *http.Client, token string, ids ...string) int {
		res, err := c.PostForm(s.URL+"/gallery/delete", url.Values{"_csrf": {token}, "id": ids})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := deleteMany(eve, eveToken, ids[0], ids[1]); got != 200 {
		t.Errorf("eve's delete: %d", got)
	}
	if got := deleteMany(admin, token); got != 422 {
		t.Errorf("a delete of nothing: %d, want 422", got)
	}
	if got := deleteMany(admin, token, ids[0], ids[1]); got != 200 {
		t.Errorf("admin's delete: %d", got)
	}
	for i, id := range ids {
		_, err := store.FindInference(t.Context(), s.App.Store.DB(), uuid.MustParse(id))
		if gone := err != nil; gone != (i < 2) {
			t.Errorf("job %d: gone = %v after admin deleted the first two (eve's delete must remove none)", i, gone)
		}
	}
}
