package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// idlePoll is how often stop asks a member whether it went idle.
var idlePoll = 100 * time.Millisecond

// progressPath is A1111's progress, without the preview image: global,
// it takes no lock, so it answers while a generation runs.
const progressPath = "/sdapi/v1/progress?skip_current_image=true"

// busy asks m what it is doing: running reports a job in progress; err is
// set when m does not answer like an A1111 server (it is down).
func (b *Backend) busy(ctx context.Context, m *member) (running bool, err error) {
	body, err := b.call(ctx, m, http.MethodGet, progressPath)
	if err != nil {
		return false, err
	}
	var p struct {
		State *struct {
			JobCount int `json:"job_count"`
		} `json:"state"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.State == nil {
		return false, errNotA1111
	}
	return p.State.JobCount > 0, nil
}

type notA1111 struct{}

func (notA1111) Error() string { return "not an A1111 API (progress is not A1111's)" }

var errNotA1111 error = notA1111{}

// alive reports whether m answers its progress: a server that failed one
// request but answers is not broken.
func (b *Backend) alive(m *member) bool {
	_, err := b.busy(context.Background(), m)
	return err == nil
}

// stop interrupts what m runs — dropping the connection does not stop
// A1111, whose generation would keep the GPU and make the next request
// wait — then waits, at most StopTimeout, for m's progress to go idle, and
// releases m. A member that does not go idle is marked down.
func (b *Backend) stop(p *pool, m *member, inference string) {
	defer p.release(m)
	ctx, cancel := context.WithTimeout(context.Background(), b.StopTimeout)
	defer cancel()
	if _, err := b.call(ctx, m, http.MethodPost, "/sdapi/v1/interrupt"); err != nil {
		b.log.Warn("webui interrupt failed", "pool", p.name, "member", m.name, "inference", inference, "err", err)
	}
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		running, err := b.busy(ctx, m)
		if err == nil && !running {
			return
		}
		select {
		case <-ctx.Done():
			b.log.Warn("webui member still busy after an interrupt", "pool", p.name, "member", m.name,
				"inference", inference, "wait", b.StopTimeout)
			p.mark(m, b.Cooldown)
			return
		case <-t.C:
		}
	}
}
