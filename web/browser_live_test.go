package web_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
	"easel/store"
)

// requestLog records the URLs the page requests.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) matching(part string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, u := range l.urls {
		if strings.Contains(u, part) {
			n++
		}
	}
	return n
}

// TestBrowserJobPageUpdatesLive: the job page shows the finished image
// through the event stream, while its polling stands down. The page
// polls .../detail?poll=1 only while the stream is down: once the stream
// is open no such request may leave the page, and the job then takes
// seconds (the slow pool), so polling that did not stand down would show.
func TestBrowserJobPageUpdatesLive(t *testing.T) {
	t.Parallel()
	s := inferenceServer(t)
	id := slowJob(t, s)
	b := newBrowser(t, 60*time.Second)
	log := &requestLog{}
	reqs := chromedp.Events(b.ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range reqs {
			if err != nil {
				return
			}
			log.mu.Lock()
			log.urls = append(log.urls, ev.Request.URL)
			log.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("open the job",
		chromedp.Navigate(s.URL+"/gallery/"+id),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-detail"][data-status="created"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="1"]`)),
	)
	polled := log.matching("/detail?poll=1")
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", testenv.As("admin"), nil)
	b.do("see the image",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-detail"][data-status="inprogress"]`)),
		chromedp.WaitVisible(tid("job-image")),
	)
	if got := run(b, "status", chromedp.Text(tid("job-status"))); got != "Succeeded" {
		t.Errorf("job status: got %q, want Succeeded", got)
	}
	if n := log.matching("/detail?poll=1") - polled; n != 0 {
		t.Errorf("the page polled %d times while its event stream was open, want 0", n)
	}
	if log.matching("/events") == 0 || log.matching("/gallery/"+id+"/detail") == 0 {
		t.Errorf("the page did not open the stream or fetch on its events: %v", log.urls)
	}
	if live := run(b, "still live", chromedp.Evaluate[bool](`document.body.dataset.live === "1"`)); !live {
		t.Error("the stream was not open at the end")
	}

	// The gallery, which does not poll at all, shows a new job's card
	// and then its image from the stream, without a reload.
	b.do("open the gallery",
		chromedp.Navigate(s.URL+"/gallery"),
		chromedp.WaitVisible(tid("gallery-card-"+id)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="1"]`)),
		markPage,
	)
	next := createJob(t, s, testenv.As("admin"), "Async", "txt2img", map[string]any{"prompt": "a kite", "width": 32, "height": 32})
	s.MustCall(t, 202, "PUT", "/inferences/"+next+"/start", testenv.As("admin"), nil)
	b.do("see the new card finished",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="gallery-card-`+next+`"][data-status="succeed"] img`)),
	)
	b.assertSamePage("the gallery's update")
}

// TestBrowserWebhooksPage: a user makes a signing secret (shown once),
// adds a standing webhook, and sees only their own.
func TestBrowserWebhooksPage(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	mustRole(t, s, "watchers", "inference:list")
	mustUser(t, s, "admin", "mia", "watchers")
	b := newBrowser(t, 60*time.Second)
	dialogs := acceptDialogs(b.ctx)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("make a secret",
		chromedp.Navigate(s.URL+"/webhooks"),
		chromedp.WaitVisible(tid("webhooks-empty")),
		chromedp.Click(tid("webhook-rotate")),
		chromedp.WaitVisible(tid("webhook-secret")),
	)
	<-dialogs
	secret := run(b, "read the secret", chromedp.Evaluate[string](`document.querySelector('[data-testid="webhook-secret"]').value`))
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Errorf("secret %q, want whsec_ and 32 bytes of base64", secret)
	}
	b.do("add a webhook",
		settled("webhook-create-form"),
		chromedp.SendKeys(tid("webhook-url"), "https://hooks.example.com/easel"),
		chromedp.Click(tid("webhook-event-start")),
		chromedp.Click(tid("webhook-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid^="webhook-row-"]`)),
	)
	if run(b, "secret gone", chromedp.Evaluate[bool](`document.querySelector('[data-testid="webhook-secret"]') !== null`)) {
		t.Error("the secret is still shown after another action")
	}
	hooks, err := store.ListWebhooks(t.Context(), s.App.Store.DB(), "admin")
	if err != nil || len(hooks) != 1 || hooks[0].URL != "https://hooks.example.com/easel" || slices.Contains(hooks[0].Events, "start") {
		t.Fatalf("stored webhooks %+v (%v), want one without start", hooks, err)
	}
	b.do("a refused URL is named",
		settled("webhook-create-form"),
		chromedp.SendKeys(tid("webhook-url"), "http://169.254.169.254/latest"),
		chromedp.Click(tid("webhook-create-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-url"][aria-invalid="true"]`)),
	)
	b.logout()
	b.login(s.URL, "mia", "pw-mia")
	b.do("mia's page", chromedp.Navigate(s.URL+"/webhooks"), chromedp.WaitVisible(tid("webhooks-table")))
	if n := run(b, "mia's rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid^="webhook-row-"]').length`)); n != 0 {
		t.Errorf("mia sees %d of admin's webhooks", n)
	}
}
