// Command siaga-ferretdb runs FerretDB 1.24 on SQLite as Siaga's local MongoDB-wire server.
//
// FerretDB is embedded through its public ferretdb package (a plain `go install` of its own command panics
// at start-up because build/version/version.txt is missing from the module zip). FerretDB itself listens on
// a Unix socket; clients connect to the TCP address of the write-serialising proxy in proxy.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address clients connect to")
	dir := flag.String("sqlite-dir", "data", "directory of the SQLite databases (created if missing)")
	socket := flag.String("socket", "", "Unix socket FerretDB listens on behind the proxy (default: <sqlite-dir>/../ferretdb.sock)")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()

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
	}
	_ = os.Remove(sock)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: sock},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fail(logger, "ferretdb", err)
	}
	done := make(chan struct{})
	go func() {
		f.Run(ctx)
		close(done)
	}()
	logger.Info("siaga-ferretdb: serialising write commands", "listen", *listen, "upstream", sock)
	if err := serveProxy(ctx, *listen, "unix", sock, logger); err != nil {
		fail(logger, "listen "+*listen, err)
	}
	<-done
	logger.Info("siaga-ferretdb: stopped")
}

func fail(logger *slog.Logger, what string, err error) {
	logger.Error(fmt.Sprintf("%s: %v", what, err))
	os.Exit(1)
}
