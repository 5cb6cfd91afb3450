package jobs

import (
	"testing"
	"time"
)

func TestWebhookRetriesSpanADay(t *testing.T) {
	var span time.Duration
	for n := 1; n < WebhookAttempts; n++ {
		d := WebhookRetryDelay(n)
		if n > 1 && d < WebhookRetryDelay(n-1) {
			t.Errorf("delay after attempt %d is %s, shorter than after attempt %d", n, d, n-1)
		}
		span += d
	}
	if span < 24*time.Hour {
		t.Errorf("%d attempts span %s, want at least 24h", WebhookAttempts, span)
	}
	if first := WebhookRetryDelay(1); first > time.Minute {
		t.Errorf("first retry after %s, want within a minute", first)
	}
}

// The example of the Standard Webhooks libraries (svix): a known secret,
// message id, timestamp and body give a known signature.
func TestSignWebhookStandardExample(t *testing.T) {
	got, err := SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if _, err := SignWebhook("whsec_not base64!", "m", 1, nil); err == nil {
		t.Error("a secret that is not base64 signed")
	}
}
