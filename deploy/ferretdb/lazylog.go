package main

import (
	"context"
	"log/slog"
)

// lazyAttrs is a slog.Handler that defers what Logger.With and Logger.WithGroup add until a record is
// really handled.
//
// FerretDB's SQL layer (internal/util/fsql) derives a logger for every statement, with the statement's
// text and arguments (whole documents) as attributes, and logs through it only at debug level.
// slog.TextHandler formats attributes eagerly in WithAttrs, so every update paid for quoting a document
// that was never written: 6.5% of FerretDB's CPU in the national benchmark's distribution phase
// (bench/results/national_profile_ferretdb.txt, `log/slog.(*Logger).With`). Here WithAttrs only
// remembers the attributes; they are formatted when a record passes the level check.
type lazyAttrs struct {
	base slog.Handler
	ops  []lazyOp
}

// lazyOp is one deferred WithAttrs (attrs) or WithGroup (group) call, in the order they were made.
type lazyOp struct {
	group string
	attrs []slog.Attr
}

func newLazyAttrs(base slog.Handler) *lazyAttrs { return &lazyAttrs{base: base} }

func (h *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.resolve().Handle(ctx, r)
}

func (h *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(lazyOp{attrs: attrs})
}

func (h *lazyAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(lazyOp{group: name})
}

func (h *lazyAttrs) with(op lazyOp) *lazyAttrs {
	ops := make([]lazyOp, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &lazyAttrs{base: h.base, ops: append(ops, op)}
}

// resolve applies the deferred calls to the base handler, as the eager handler would have seen them.
func (h *lazyAttrs) resolve() slog.Handler {
	out := h.base
	for _, op := range h.ops {
		if op.group != "" {
			out = out.WithGroup(op.group)
		} else {
			out = out.WithAttrs(op.attrs)
		}
	}
	return out
}
