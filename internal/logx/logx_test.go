package logx

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestNewPicksJSONOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	New("", &buf).Info("hello", "k", "v")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("default format off a terminal: %q, want JSON", buf.String())
	}
	buf.Reset()
	New("text", &buf).Info("hello", "k", "v")
	if !strings.Contains(buf.String(), "msg=hello k=v") {
		t.Errorf("text format: %q", buf.String())
	}
}

func TestDemotedDropsInfoKeepsWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := Demoted(slog.New(slog.NewTextHandler(&buf, nil)).With("component", "river"))
	l.Info("producer: fetched nothing")
	if buf.Len() != 0 {
		t.Errorf("info line written: %q", buf.String())
	}
	l.Warn("job failed")
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "component=river") {
		t.Errorf("warning: %q", buf.String())
	}
	var debug bytes.Buffer
	Demoted(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))).Info("x")
	if !strings.Contains(debug.String(), "level=DEBUG") {
		t.Errorf("at debug level the line is kept as DEBUG: %q", debug.String())
	}
}

func TestForAddsTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	For(WithRequestID(t.Context(), "req-42"), l).Info("x")
	For(t.Context(), l).Info("y")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "request_id=req-42") || strings.Contains(lines[1], "request_id") {
		t.Errorf("lines = %q", lines)
	}
}
