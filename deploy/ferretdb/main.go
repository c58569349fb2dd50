// Command siaga-ferretdb runs FerretDB 1.24 on SQLite as Siaga's local MongoDB-wire server.
//
// FerretDB is embedded through its public ferretdb package (a plain `go install` of its own command panics
// at start-up because build/version/version.txt is missing from the module zip). FerretDB itself listens on
// a Unix socket; clients connect to the TCP address of the write-serialising proxy in proxy.go, which also
// resolves {_id, _v} version guards with an indexed read (cas.go) and adds the _id index FerretDB's own
// queries can use (indexes.go).
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
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

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
	indexes := newIndexKeeper(abs, logger)
	if err := indexes.ensureAll(); err != nil {
		fail(logger, "_id path indexes", err)
	}
	logger.Info("siaga-ferretdb: serialising write commands", "listen", *listen, "upstream", sock)
	if err := serveProxy(ctx, *listen, "unix", sock, indexes, logger); err != nil {
		fail(logger, "listen "+*listen, err)
	}
	stop()
	if unexpected := <-done; unexpected {
		os.Exit(1)
	}
	logger.Info("siaga-ferretdb: stopped")
}

func fail(logger *slog.Logger, what string, err error) {
	logger.Error(fmt.Sprintf("%s: %v", what, err))
	os.Exit(1)
}
