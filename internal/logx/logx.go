// Package logx holds the slog pieces Easel's processes share: choosing
// the output format and quieting routine lines.
package logx

import (
	"context"
	"io"
	"log/slog"
	"os"
)

// New returns a logger writing format ("json" or "text") to out; an
// empty format means text on a terminal and JSON elsewhere.
func New(format string, out io.Writer) *slog.Logger {
	if format == "" {
		format = "json"
		if IsTerminal(out) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(out, nil))
	}
	return slog.New(slog.NewJSONHandler(out, nil))
}

// IsTerminal reports whether w is a character device (a person's terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Demoted returns a logger whose Info lines are written at Debug (and so
// dropped at the default level), for chatty components such as River's
// producers; warnings and errors pass unchanged.
func Demoted(l *slog.Logger) *slog.Logger { return slog.New(demote{l.Handler()}) }

type demote struct{ h slog.Handler }

func (d demote) Enabled(ctx context.Context, level slog.Level) bool {
	if level == slog.LevelInfo {
		level = slog.LevelDebug
	}
	return d.h.Enabled(ctx, level)
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(attrs []slog.Attr) slog.Handler { return demote{d.h.WithAttrs(attrs)} }
func (d demote) WithGroup(name string) slog.Handler       { return demote{d.h.WithGroup(name)} }

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// For returns l with the request id of ctx (if any) on every line, so a
// line written while serving a request can be found with that request.
func For(ctx context.Context, l *slog.Logger) *slog.Logger {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return l.With("request_id", id)
	}
	return l
}
