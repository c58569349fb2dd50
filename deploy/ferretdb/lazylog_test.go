package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A record logged through the lazy handler reads exactly as through the eager one, groups included, and
// a record below the level is never formatted.
func TestLazyAttrsWritesWhatTheEagerHandlerWrites(t *testing.T) {
	var eager, lazy bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	logs := []*slog.Logger{
		slog.New(slog.NewTextHandler(&eager, opts)),
		slog.New(newLazyAttrs(slog.NewTextHandler(&lazy, opts))),
	}
	for _, l := range logs {
		derived := l.With("sql", "UPDATE x SET y = ?", "args", []any{`{"_id":"a"}`}).WithGroup("g").With("n", 3)
		derived.Debug("hidden")
		derived.Info("shown", "k", "v")
		l.Info("plain")
	}
	strip := func(s string) string { // the time differs between the two
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
			out = append(out, line[strings.Index(line, " level="):])
		}
		return strings.Join(out, "\n")
	}
	if strip(eager.String()) != strip(lazy.String()) {
		t.Fatalf("lazy handler wrote\n%s\nwhere the eager one wrote\n%s", lazy.String(), eager.String())
	}
	if strings.Contains(lazy.String(), "hidden") || !strings.Contains(lazy.String(), `g.n=3 g.k=v`) {
		t.Fatalf("unexpected output:\n%s", lazy.String())
	}
}

type countingHandler struct {
	slog.Handler
	withAttrs *int
}

func (c countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	*c.withAttrs++
	return countingHandler{c.Handler.WithAttrs(attrs), c.withAttrs}
}

// Deriving a logger costs the base handler nothing until a record is handled.
func TestLazyAttrsDoesNotFormatBelowTheLevel(t *testing.T) {
	n := 0
	base := countingHandler{slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelInfo}), &n}
	l := slog.New(newLazyAttrs(base))
	for i := 0; i < 100; i++ {
		l.With("args", i).Debug("statement")
	}
	if n != 0 {
		t.Fatalf("base WithAttrs called %d times for records below the level", n)
	}
	l.With("args", 1).Info("statement")
	if n != 1 {
		t.Fatalf("base WithAttrs called %d times for one record at the level, want 1", n)
	}
}
