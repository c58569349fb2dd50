package main

// A MongoDB wire-protocol proxy that runs each write command alone.
//
// FerretDB 1.x executes an update as a SELECT, a filter in Go and an UPDATE by _id, in separate SQLite
// statements. Two concurrent updates of one document can therefore both "match" a version-guarded filter
// such as {_id, _v} and the later one silently overwrites the earlier (measured: 8 concurrent writers
// reported 70 successful guarded replaces and stored 59). Siaga's store relies on that guard, exactly as it
// would on MongoDB, so the proxy serialises write commands (insert, update, delete, findAndModify) behind
// one mutex, the write gate: a write starts only after the previous write's reply went back. Reads pass
// through unserialised. SQLite admits one writer at a time anyway, so little throughput is lost.
//
// The commands that create or drop collections, indexes and databases (create, createIndexes, drop,
// dropDatabase, dropIndexes, renameCollection) are gated too, so that nothing is dropped while the index
// keeper (indexes.go), which also holds the gate, has a database file open.
//
// Because the gate makes the proxy the only writer while it is held, the proxy can do two things on
// FerretDB's behalf without changing what any client observes: resolve {_id, _v} version guards of update
// commands with an indexed read (cas.go), and add the _id index FerretDB's queries can use (indexes.go).
// Every other command is relayed byte for byte; find commands are never rewritten.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	opMsg          = 2013
	headerLen      = 16
	maxMessageSize = 48 * 1024 * 1024
	flagMoreToCome = 1 << 1
	versionReaders = 4 // connections reading the versions of one update command's guards in parallel
)

// The gated commands: writes, and the commands that create or drop collections, indexes and databases (so
// the index keeper never has a file open while FerretDB drops it). Lower-case, as commandName returns them.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
	"create": true, "createindexes": true, "drop": true, "dropdatabase": true, "dropindexes": true,
	"renamecollection": true,
}

// writeGate runs the write commands of one database one at a time; while a database's gate is held, the
// proxy alone writes to that database, which is what makes resolving version guards itself (cas.go) and
// adding indexes (indexes.go) safe. FerretDB keeps each database in its own SQLite file, and SQLite admits
// one writer per file, so writes to different databases (one per Siaga service) run side by side: a service
// never waits behind another service's bulk write. A command that is not one database's (renameCollection
// names its databases in its arguments; a message the proxy cannot parse) takes every gate (all).
type writeGate struct {
	all      sync.RWMutex // held shared by each database's writer, exclusively by a command of no one database
	mu       sync.Mutex   // guards dbs
	dbs      map[string]*sync.Mutex
	upstream *upstreamPool
	versions *sqliteVersions // guard versions read from SQLite (versions.go); nil: through FerretDB
	indexes  *indexKeeper
	logger   *slog.Logger
}

// dbLocker is one database's gate as a sync.Locker: shared hold of all, then the database's own mutex.
type dbLocker struct {
	g  *writeGate
	db *sync.Mutex
}

func (l dbLocker) Lock()   { l.g.all.RLock(); l.db.Lock() }
func (l dbLocker) Unlock() { l.db.Unlock(); l.g.all.RUnlock() }

// allLocker holds every database's gate.
type allLocker struct{ g *writeGate }

func (l allLocker) Lock()   { l.g.all.Lock() }
func (l allLocker) Unlock() { l.g.all.Unlock() }

// locker returns the gate of database db; "" means every database.
func (g *writeGate) locker(db string) sync.Locker {
	if db == "" {
		return allLocker{g}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	m, ok := g.dbs[db]
	if !ok {
		m = &sync.Mutex{}
		g.dbs[db] = m
	}
	return dbLocker{g, m}
}

// gateFor returns the gate a write command must hold: its database's, or all for a command of no one
// database.
func (g *writeGate) gateFor(name string, m *opMessage) sync.Locker {
	if m == nil || name == "renamecollection" {
		return g.locker("")
	}
	db, _ := m.commandTarget()
	return g.locker(db)
}

// fileLocker is the gate of the database stored in a FerretDB SQLite file (<db>.sqlite), for the keeper.
func (g *writeGate) fileLocker(path string) sync.Locker {
	return g.locker(strings.TrimSuffix(filepath.Base(path), ".sqlite"))
}

// readMessage reads one whole wire message (header included).
func readMessage(r io.Reader) ([]byte, error) {
	var header [headerLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	size := int(binary.LittleEndian.Uint32(header[0:4]))
	if size < headerLen || size > maxMessageSize {
		return nil, fmt.Errorf("invalid message length %d", size)
	}
	msg := make([]byte, size)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// commandName returns the lower-cased command of an OP_MSG request, or "" for anything else.
func commandName(msg []byte) (name string, moreToCome bool) {
	if len(msg) < headerLen+4+1+5 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return "", false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	moreToCome = flags&flagMoreToCome != 0
	end := len(msg)
	if flags&flagChecksumPresent != 0 {
		end -= 4
	}
	// Sections: a kind byte, then a document (kind 0, the body) or a sized document sequence (kind 1).
	// Drivers send the body first, but the protocol allows any order.
	for p := headerLen + 4; p+5 <= end; {
		kind := msg[p]
		size := int(binary.LittleEndian.Uint32(msg[p+1:]))
		if size < 5 || p+1+size > end {
			return "", moreToCome
		}
		if kind == 1 {
			p += 1 + size
			continue
		}
		if kind != 0 {
			return "", moreToCome
		}
		// BSON document: int32 size, then elements: type byte, cstring name, value. The first name is the command.
		rest := msg[p+1+5 : p+1+size]
		n := bytes.IndexByte(rest, 0)
		if n < 0 {
			return "", moreToCome
		}
		return strings.ToLower(string(rest[:n])), moreToCome
	}
	return "", moreToCome
}

func newWriteGate(upstreamNetwork, upstreamAddr string, indexes *indexKeeper, logger *slog.Logger) *writeGate {
	g := &writeGate{
		dbs:      map[string]*sync.Mutex{},
		upstream: newUpstreamPool(upstreamNetwork, upstreamAddr, versionReaders),
		indexes:  indexes,
		logger:   logger,
	}
	if indexes != nil {
		g.versions = newSQLiteVersions(indexes.dir, g.upstream.readVersion, versionReaders)
	}
	return g
}

// serveProxy accepts clients on listenAddr and relays each to its own connection to the gate's upstream.
func serveProxy(ctx context.Context, listenAddr string, gate *writeGate) error {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	network, addr := gate.upstream.network, gate.upstream.addr
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			if err := proxyConn(ctx, client, network, addr, gate); err != nil &&
				!errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				gate.logger.Debug("proxy connection ended", "error", err)
			}
		}()
	}
}

// proxyConn relays one client connection. MongoDB drivers send one request at a time per connection and
// wait for its reply, so the connection is handled as request → reply(s).
func proxyConn(ctx context.Context, client net.Conn, network, addr string, gate *writeGate) error {
	defer client.Close()
	var d net.Dialer
	upstream, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	defer upstream.Close()
	for {
		req, err := readMessage(client)
		if err != nil {
			return err
		}
		name, moreToCome := commandName(req)
		if !writeCommands[name] {
			if err := relay(req, moreToCome, client, upstream); err != nil {
				return err
			}
			continue
		}
		m, perr := parseOpMsg(req)
		if perr != nil {
			m = nil
		}
		lock := gate.gateFor(name, m)
		lock.Lock()
		err = gate.write(name, req, m, moreToCome, client, upstream)
		lock.Unlock()
		if err != nil {
			return err
		}
	}
}

// write runs one write command under its gate: guards resolved, relayed, then the index keeper told.
// m is the parsed request, or nil when the proxy could not parse it.
func (g *writeGate) write(name string, req []byte, m *opMessage, moreToCome bool, client, upstream net.Conn) error {
	if m == nil {
		return relay(req, moreToCome, client, upstream) // not ours to understand: pass it through
	}
	if name == "update" {
		start := time.Now()
		read := g.upstream.readVersion
		if g.versions != nil {
			read = g.versions.read
		}
		rewritten, err := rewriteGuards(m, read, versionReaders)
		if err != nil {
			g.logger.Warn("siaga-ferretdb: version lookup failed; forwarding the guard as is", "error", err)
		} else if rewritten {
			req = m.encode()
			resolved := time.Since(start)
			defer func() {
				g.logger.Debug("siaga-ferretdb: version guards resolved", "resolving", resolved.Round(time.Microsecond),
					"total", time.Since(start).Round(time.Microsecond))
			}()
		}
	}
	db, coll := m.commandTarget()
	if g.versions != nil {
		g.versions.before(name, db, coll)
	}
	err := relay(req, moreToCome, client, upstream)
	if g.indexes != nil {
		g.indexes.after(name, db, coll)
	}
	return err
}

// relay sends a request upstream and copies back its reply; a reply flagged moreToCome is followed by more.
func relay(req []byte, moreToCome bool, client, upstream net.Conn) error {
	if _, err := upstream.Write(req); err != nil {
		return err
	}
	if moreToCome {
		return nil
	}
	for {
		reply, err := readMessage(upstream)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(reply[12:16]) != opMsg || binary.LittleEndian.Uint32(reply[16:20])&flagMoreToCome == 0 {
			return nil
		}
	}
}
