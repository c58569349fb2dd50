// Command siaga-ferretdb runs FerretDB 1.24 on SQLite as Siaga's local MongoDB-wire server.
//
// FerretDB is embedded through its public ferretdb package (a plain `go install` of its own command panics
// at start-up because build/version/version.txt is missing from the module zip). FerretDB itself listens on
// a Unix socket; clients connect to the TCP address of the proxy in proxy.go, which runs the write commands
// of each database one at a time behind a mutex (that database's write gate) so that version-guarded writes
// keep MongoDB's meaning; writes to different databases (SQLite files) run side by side.
//
// Two FerretDB 1.24 performance defects are worked around here, in our code, without patching FerretDB:
//
//   - No lookup by _id uses an index (indexes.go). FerretDB indexes _ferretdb_sjson->"_id" but queries
//     _ferretdb_sjson->'$._id', and SQLite matches index expressions by their text, so every find, update
//     and delete by _id scanned the collection. An index keeper adds an index on the expression the queries
//     use: at start-up, after the write that creates a collection, and in a sweep every 500 ms over the
//     database files that changed, always holding the write gate.
//   - A version-guarded write ({_id: X, _v: N}) made FerretDB read and decode every document of the
//     collection, since it pushes down only a filter that is exactly {_id: X}. Under the gate the proxy
//     reads the stored _v by _id and forwards the statement as {_id: X} when it matches, or with a filter
//     that matches nothing when it does not (cas.go).
//
// Measured on a 10,000-document collection (documents of 1.5 KB; median latency seen by pymongo, before →
// after): find_one by _id 22-31 ms → 3 ms (0.8 ms with a projection; the rest is FerretDB building the
// reply), replace_one by _id 23 → 1.2 ms, delete_one by _id 72 → 0.8 ms, replace_one by {_id, _v}
// 140-200 ms → 2.5 ms when the version matches and 385-423 ms → 1.8 ms when it does not, update_one by
// {_id, _v} with $set/$inc 208-219 → 1.9 ms, an unordered bulk of 50 guarded ReplaceOne 46 → 1.3 ms per
// document. At 50,000 documents the "after" figures are the same: they no longer grow with the collection.
//
// Telemetry: the embedded ferretdb package never creates the telemetry reporter and additionally marks
// telemetry as disabled and locked in its state, so nothing is sent anywhere. Its state stays in memory.
//
// SIGTERM or SIGINT cancels the context: the proxy stops accepting, FerretDB closes its listener, client
// connections and the SQLite databases, and the process exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address clients connect to")
	dir := flag.String("sqlite-dir", "data", "directory of the SQLite databases (created if missing)")
	socket := flag.String("socket", "", "Unix socket FerretDB listens on behind the proxy (default: <sqlite-dir>/../ferretdb.sock)")
	debug := flag.Bool("debug", false, "log at debug level")
	pprofSocket := flag.String("pprof-socket", "", "Unix socket of the Go profiler (default: <sqlite-dir>/../pprof.sock; \"-\": none)")
	// SQLite's default in WAL mode (FULL) fsyncs the log on every commit, and FerretDB commits every update
	// statement on its own: measured 40 ms per replace on this machine. NORMAL fsyncs at checkpoints only;
	// a committed write survives a crash of FerretDB (the log is in the OS page cache), and only a power
	// loss can roll back the last commits. That is the usual production setting for SQLite in WAL mode.
	synchronous := flag.String("synchronous", "NORMAL", "SQLite synchronous pragma: FULL, NORMAL or OFF")
	flag.Parse()
	switch *synchronous {
	case "FULL", "NORMAL", "OFF":
	default:
		fmt.Fprintf(os.Stderr, "-synchronous must be FULL, NORMAL or OFF, not %q\n", *synchronous)
		os.Exit(2)
	}

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(newLazyAttrs(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail(logger, "sqlite dir", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fail(logger, "sqlite dir", err)
	}
	sock := *socket
	if sock == "" {
		sock = filepath.Join(filepath.Dir(abs), "ferretdb.sock")
		if len(sock) > 100 { // Unix socket paths are limited to 108 bytes
			sock = filepath.Join(os.TempDir(), "siaga-ferretdb-"+strings.ReplaceAll(*listen, ":", "-")+".sock")
		}
	}
	_ = os.Remove(sock)
	profiler := *pprofSocket
	if profiler == "" {
		profiler = filepath.Join(filepath.Dir(sock), "pprof.sock")
		if len(profiler) > 100 {
			profiler = strings.TrimSuffix(sock, ".sock") + "-pprof.sock"
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(" + *synchronous + ")",
	})
	if err != nil {
		fail(logger, "ferretdb", err)
	}
	done := make(chan bool, 1) // true: FerretDB stopped on its own, not because of a signal
	go func() {
		err := f.Run(ctx)
		unexpected := ctx.Err() == nil
		if unexpected {
			logger.Error(fmt.Sprintf("ferretdb stopped unexpectedly: %v", err))
			stop() // take the proxy down too, so the devstack sees the process exit
		}
		done <- unexpected
	}()
	if profiler != "-" {
		go servePprof(ctx, profiler, logger)
	}
	// The _id path indexes (indexes.go): every existing table first, then the maintainer in the background.
	indexes := newIndexKeeper(abs, logger)
	gate := newWriteGate("unix", sock, indexes, logger)
	if n := indexes.sweep(gate.fileLocker); n > 0 {
		logger.Debug("siaga-ferretdb: _id path indexes checked", "files", n)
	}
	maintained := make(chan struct{})
	go func() {
		defer close(maintained)
		indexes.maintain(ctx, gate.fileLocker, maintainEvery)
	}()
	logger.Info("siaga-ferretdb: serialising write commands", "listen", *listen, "upstream", sock)
	if err := serveProxy(ctx, *listen, gate); err != nil {
		fail(logger, "listen "+*listen, err)
	}
	stop()
	<-maintained
	if unexpected := <-done; unexpected {
		os.Exit(1)
	}
	logger.Info("siaga-ferretdb: stopped")
}

func fail(logger *slog.Logger, what string, err error) {
	logger.Error(fmt.Sprintf("%s: %v", what, err))
	os.Exit(1)
}
