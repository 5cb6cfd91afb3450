package web_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// unsized hides a body's length, so the request is sent chunked.
type unsized struct{ io.Reader }

// TestConsoleBodyLimit: a console request body over 1 MiB is refused with
// 413 before any of it is parsed, whether its length is announced or not;
// smaller requests work as before.
func TestConsoleBodyLimit(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)

	// A sign-in whose fields come first, then 2 MiB of file.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range map[string]string{"_csrf": token, "username": "admin", "password": testenv.AdminPassword, "next": "/"} {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("upload", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 2<<20))
	_ = mw.Close()
	for _, sized := range []bool{true, false} {
		var body io.Reader = bytes.NewReader(form.Bytes())
		if !sized {
			body = unsized{body}
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/login", body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("2 MiB login (sized %v): %v", sized, err)
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "at most 1 MiB") {
			t.Errorf("2 MiB multipart login (sized %v): got %d, want 413 saying the limit", sized, res.StatusCode)
		}
		if ck := setCookie(res, "easel_session"); ck != nil {
			t.Errorf("2 MiB multipart login (sized %v): got a session, want none", sized)
		}
	}
	var sessions int
	if err := s.App.Store.DB().QueryRow(t.Context(), `SELECT count(*) FROM sessions`).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Errorf("sessions after the refused logins: got %d, want 0", sessions)
	}
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusSeeOther {
		t.Fatalf("normal login: got %d, want 303", got)
	}

	// JSON of a console route (upload.js), signed in: bounded the same way.
	pageTok := pageToken(t, c, s.URL+"/models")
	big := fmt.Sprintf(`{"type":"Lora","files":[{"name":"a.safetensors","size":1}],"pad":%q}`, strings.Repeat("x", 2<<20))
	for _, htmx := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/models/uploads", unsized{strings.NewReader(big)})
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", pageTok)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "at most 1 MiB") {
			t.Errorf("2 MiB JSON to /models/uploads (htmx %v): got %d %.200s, want 413 saying the limit", htmx, res.StatusCode, msg)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/models/uploads",
		strings.NewReader(`{"type":"Lora","files":[{"name":"a.safetensors","size":1}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", pageTok)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("small JSON to /models/uploads: got %d, want 200", res.StatusCode)
	}
}
