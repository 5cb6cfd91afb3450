package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Heartbeat is how often an idle event stream sends a comment, so proxies
// and clients know it is alive.
var Heartbeat = 15 * time.Second

// sseWriteWait bounds one write to an event stream: a reader that takes
// longer is gone.
const sseWriteWait = 30 * time.Second

// sseStream writes server-sent events.
type sseStream struct {
	res *echo.Response
	rc  *http.ResponseController
}

// startSSE sends the headers of an event stream. The server's read and
// write timeouts, meant for ordinary requests, are lifted for it: each
// write gets its own deadline instead.
func startSSE(c echo.Context) *sseStream {
	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	res.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(res)
	_ = rc.SetReadDeadline(time.Time{})
	s := &sseStream{res: res, rc: rc}
	_ = s.write("retry: 3000\n\n")
	return s
}

func (s *sseStream) write(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(sseWriteWait))
	if _, err := fmt.Fprint(s.res, text); err != nil {
		return err
	}
	return s.rc.Flush()
}

// event sends one event; data must be one line (JSON is).
func (s *sseStream) event(id, name string, data []byte) error {
	text := ""
	if id != "" {
		text = "id: " + id + "\n"
	}
	return s.write(text + "event: " + name + "\ndata: " + string(data) + "\n\n")
}

// comment sends a comment line (a heartbeat).
func (s *sseStream) comment(text string) error { return s.write(": " + text + "\n\n") }
