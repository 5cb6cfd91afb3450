package handlers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// listStream writes {"statusCode":200,"data":{"<key>":[...],...},"message":"OK"}
// one item at a time, so a list of any length never sits in memory. The
// header goes out with the first item; an error before that still gets a
// normal error answer.
type listStream struct {
	c       echo.Context
	key     string
	buf     *bufio.Writer
	started bool
}

func newListStream(c echo.Context, key string) *listStream { return &listStream{c: c, key: key} }

func (s *listStream) start() error {
	if s.started {
		return nil
	}
	s.started = true
	res := s.c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	res.WriteHeader(http.StatusOK)
	s.buf = bufio.NewWriterSize(res, 32<<10)
	_, err := fmt.Fprintf(s.buf, `{"statusCode":200,"data":{%q:[`, s.key)
	return err
}

func (s *listStream) item(v any) error {
	first := !s.started
	if err := s.start(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !first {
		if err := s.buf.WriteByte(','); err != nil {
			return err
		}
	}
	_, err = s.buf.Write(b)
	return err
}

// fail returns err for the error handler when nothing was written yet;
// afterwards the answer can only be cut short.
func (s *listStream) fail(err error) error {
	if !s.started {
		return err
	}
	return fmt.Errorf("list stream broken after the header: %w", err)
}

func (s *listStream) finish(extra map[string]any) error {
	if err := s.start(); err != nil {
		return err
	}
	if _, err := s.buf.WriteString("]"); err != nil {
		return err
	}
	for k, v := range extra {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(s.buf, ",%q:%s", k, b); err != nil {
			return err
		}
	}
	if _, err := s.buf.WriteString(`},"message":"OK"}`); err != nil {
		return err
	}
	return s.buf.Flush()
}
