package main

// The Go profiler of this process, on a Unix socket beside the data (never on a TCP port), so that the
// benchmarks can show where FerretDB spends its CPU: `curl --unix-socket PATH
// http://x/debug/pprof/profile?seconds=20 > cpu.pb.gz`, then `go tool pprof -top cpu.pb.gz`.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

func servePprof(ctx context.Context, path string, logger *slog.Logger) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		logger.Warn("siaga-ferretdb: no profiler socket", "path", path, "error", err)
		return
	}
	if err := os.Chmod(path, 0o600); err != nil {
		logger.Warn("siaga-ferretdb: profiler socket permissions", "error", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("siaga-ferretdb: profiler stopped", "error", err)
	}
}
