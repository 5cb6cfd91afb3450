package web_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
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
}
