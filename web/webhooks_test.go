package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

// receiver is a webhook receiver on loopback: it records each request and
// answers with the next of codes (the last one repeats).
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	codes []int
	got   []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		code := r.codes[min(len(r.got), len(r.codes))-1]
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifySignature checks a delivery as a receiver would, written from the
// Standard Webhooks specification and not with Easel's code: HMAC-SHA256
// over "<webhook-id>.<webhook-timestamp>.<body>" with the base64 key after
// "whsec_", compared with each "v1,<base64>" of webhook-signature.
func verifySignature(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	if _, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64); err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		v, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// awaitAttempt waits for rcv's nth request, making River run the
// delivery's job at once whenever it waits for its backoff (River's own
// JobRetry: the clock of River's scheduler cannot be faked from here).
func awaitAttempt(t *testing.T, s *testenv.Server, rcv *receiver, delivery uuid.UUID, n int) {
	t.Helper()
	waitFor(t, "attempt "+strconv.Itoa(n), func() bool {
		if len(rcv.requests()) >= n {
			return true
		}
		var jobID int64
		if s.App.Store.DB().QueryRow(t.Context(), `SELECT id FROM river_job WHERE kind = 'webhook_delivery'
			AND args->>'delivery_id' = $1 AND state = 'retryable'`, delivery.String()).Scan(&jobID) == nil {
			_, _ = s.App.River.JobRetry(t.Context(), jobID)
		}
		return false
	})
}

func deliveriesOf(t *testing.T, s *testenv.Server, owner string) []store.WebhookDelivery {
	t.Helper()
	d, err := store.ListWebhookDeliveries(t.Context(), s.App.Store.DB(), owner, 100)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWebhookDeliveriesSignedAndRetried(t *testing.T) {
	t.Parallel()
	// The receivers are on loopback: the SSRF guard of URL imports (which
	// webhooks share) must be told to allow private addresses.
	s := inferenceServer(t, testenv.WithEnv("EASEL_ALLOW_PRIVATE_URLS", "1"))
	ctx := t.Context()
	admin := policy.User("admin")
	secret, err := s.App.Actions.Webhooks.RotateSecret(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	own := newReceiver(t, 500, 500, 200)
	gone := newReceiver(t, http.StatusGone)
	standing, err := s.App.Actions.Webhooks.Create(ctx, admin, actions.WebhookInput{URL: gone.URL + "/gone", Events: []string{"completed"}})
	if err != nil {
		t.Fatal(err)
	}

	r := s.MustCall(t, 201, "POST", "/inferences", testenv.As("admin"), map[string]any{
		"task_type": "txt2img", "inference_type": "Async",
		"models":  map[string]any{"Stable-diffusion": []string{"base.safetensors"}},
		"webhook": own.URL + "/hook", "webhook_events_filter": []string{"completed", "failed"},
	})
	createParams(t, r, map[string]any{"prompt": "a harbour", "width": 32, "height": 32})
	id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
	s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", testenv.As("admin"), nil)
	if job := waitJob(t, s, id); job["status"] != "succeed" {
		t.Fatalf("job = %v", job)
	}

	// The job's own webhook: completed only (start was filtered out),
	// answered 500, 500, then 200.
	var mine store.WebhookDelivery
	waitFor(t, "the job's delivery", func() bool {
		for _, d := range deliveriesOf(t, s, "admin") {
			if d.WebhookID == nil {
				mine = d
				return d.Attempts == 1
			}
		}
		return false
	})
	if mine.Event != "completed" || mine.Status != store.DeliveryPending || mine.ResponseCode != 500 || mine.NextAttempt == nil {
		t.Fatalf("after the first 500: delivery %+v", mine)
	}
	if err := s.App.Actions.Webhooks.Redeliver(ctx, admin, mine.ID.String()); store.ErrorCode(err) != store.EInvalid {
		t.Errorf("redeliver while retrying: %v, want invalid", err)
	}
	awaitAttempt(t, s, own, mine.ID, 3)
	waitFor(t, "the delivery to succeed", func() bool {
		d, err := store.FindWebhookDelivery(ctx, s.App.Store.DB(), mine.ID)
		mine = d
		return err == nil && d.Status == store.DeliverySucceeded
	})
	if mine.Attempts != 3 || mine.ResponseCode != 200 || mine.NextAttempt != nil {
		t.Errorf("delivered: %+v, want 3 attempts, 200, no next attempt", mine)
	}
	reqs := own.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, req := range reqs {
		if !verifySignature(secret, req.header, req.body) {
			t.Errorf("attempt %d: signature %q does not verify", i+1, req.header.Get("webhook-signature"))
		}
		if verifySignature("whsec_"+base64.StdEncoding.EncodeToString([]byte("another secret")), req.header, req.body) {
			t.Errorf("attempt %d verifies under another secret", i+1)
		}
		if got, want := req.header.Get("webhook-id"), reqs[0].header.Get("webhook-id"); got != want || got == "" {
			t.Errorf("attempt %d: webhook-id %q, want %q on every attempt", i+1, got, want)
		}
		var body struct {
			Type      string         `json:"type"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(req.body, &body); err != nil {
			t.Fatalf("attempt %d body %s: %v", i+1, req.body, err)
		}
		if _, err := time.Parse(time.RFC3339, body.Timestamp); err != nil || body.Type != "inference.completed" ||
			body.Data["InferenceJobId"] != id || body.Data["status"] != "succeed" || len(body.Data["img_presigned_urls"].([]any)) != 1 {
			t.Errorf("attempt %d body = %s", i+1, req.body)
		}
	}

	// The standing webhook answered 410 Gone: disabled, not retried.
	waitFor(t, "the standing webhook to be disabled", func() bool {
		hooks, err := store.ListWebhooks(ctx, s.App.Store.DB(), "admin")
		return err == nil && len(hooks) == 1 && !hooks[0].Enabled
	})
	for _, d := range deliveriesOf(t, s, "admin") {
		if d.WebhookID != nil && *d.WebhookID == standing.ID && (d.Status != store.DeliveryFailed || d.Attempts != 1 || d.ResponseCode != 410) {
			t.Errorf("delivery to the gone hook: %+v", d)
		}
	}
	if n := len(gone.requests()); n != 1 {
		t.Errorf("the gone receiver got %d requests, want 1", n)
	}

	// Redelivery sends the same message again.
	if err := s.App.Actions.Webhooks.Redeliver(ctx, admin, mine.ID.String()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivery", func() bool { return len(own.requests()) == 4 })
	if got := own.requests()[3].header.Get("webhook-id"); got != reqs[0].header.Get("webhook-id") {
		t.Errorf("redelivery webhook-id %q, want %q", got, reqs[0].header.Get("webhook-id"))
	}
	// Another user sees none of it.
	mustRole(t, s, "viewers", "inference:list")
	mustUser(t, s, "admin", "mia", "viewers")
	if err := s.App.Actions.Webhooks.Redeliver(ctx, policy.User("mia"), mine.ID.String()); store.ErrorCode(err) != store.ENotFound {
		t.Errorf("another user's redeliver: %v, want not found", err)
	}
	if v, err := s.App.Actions.Webhooks.View(ctx, policy.User("mia")); err != nil || len(v.Deliveries) != 0 || len(v.Hooks) != 0 {
		t.Errorf("another user's view: %+v, %v", v, err)
	}
}
