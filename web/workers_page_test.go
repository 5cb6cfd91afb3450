package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestWorkersPage: an administrator adds a worker from the console, the
// command carries a working worker key, and the worker shows up online.
func TestWorkersPage(t *testing.T) {
	t.Parallel()
	s, _ := workerServer(t)
	c := signIn(t, s, "admin", testenv.AdminPassword)
	page := getPage(t, c, s.URL+"/workers")
	if !strings.Contains(page, `data-testid="worker-add-form"`) || !strings.Contains(page, `data-testid="workers-empty"`) {
		t.Fatalf("workers page lacks the add form or the empty state")
	}
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		t.Fatal("no CSRF token on the workers page")
	}
	res, err := c.PostForm(s.URL+"/workers", url.Values{"_csrf": {token[1]}, "pool": {"gpus"}, "name": {"box-7"}})
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	m := regexp.MustCompile(`EASEL_WORKER_KEY=(\S+) easel worker --server (\S+) `).FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "--name box-7") {
		t.Fatalf("add worker: %d, no command in %.400s", res.StatusCode, body)
	}
	if m[2] != s.URL {
		t.Errorf("command names server %s, want %s", m[2], s.URL)
	}
	w := &protoWorker{t: t, url: s.URL, key: m[1]}
	w.hello("box-7")
	page = getPage(t, c, s.URL+"/workers")
	if !strings.Contains(page, `data-testid="worker-row-box-7"`) || !strings.Contains(page, ">Online<") {
		t.Errorf("the worker is not listed online")
	}
	// Someone who may only list endpoints sees the workers but cannot add one.
	mustRole(t, s, "watchers", "sagemaker_endpoint:list")
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "wat", "password": "wat-password-1", "roles": []string{"watchers"}, "creator": "admin"})
	c2 := signIn(t, s, "wat", "wat-password-1")
	page = getPage(t, c2, s.URL+"/workers")
	if strings.Contains(page, `data-testid="worker-add-form"`) || !strings.Contains(page, `data-testid="worker-row-box-7"`) {
		t.Error("a watcher is offered the add form, or does not see the worker")
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
