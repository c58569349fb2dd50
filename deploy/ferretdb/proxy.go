package main

// A MongoDB wire-protocol proxy that runs each write command alone.
//
// FerretDB 1.x executes an update as a SELECT, a filter in Go and an UPDATE by _id, in separate SQLite
// statements. Two concurrent updates of one document can therefore both "match" a version-guarded filter
// such as {_id, _v} and the later one silently overwrites the earlier (measured: 8 concurrent writers
// reported 70 successful guarded replaces and stored 59). Siaga's store relies on that guard, exactly as it
// would on MongoDB, so the proxy serialises write commands (insert, update, delete, findAndModify): a
// write starts only after the previous write's reply went back. Reads pass through unserialised. SQLite
// admits one writer at a time anyway, so little throughput is lost.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
)

const (
	opMsg          = 2013
	headerLen      = 16
	maxMessageSize = 48 * 1024 * 1024
	flagMoreToCome = 1 << 1
)

// Writes, and the commands that create or drop collections and databases (so the index keeper never has
// a file open while FerretDB drops it).
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
	"create": true, "createindexes": true, "drop": true, "dropdatabase": true, "dropindexes": true,
	"renamecollection": true,
}

// writeGate runs write commands one at a time; while it is held, the proxy alone writes, which is what
// makes resolving version guards itself (cas.go) and adding indexes (indexes.go) safe.
type writeGate struct {
	mu       sync.Mutex
	upstream *upstreamClient
	indexes  *indexKeeper
	logger   *slog.Logger
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
	if len(msg) < headerLen+4+1+4+2 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return "", false
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	moreToCome = flags&flagMoreToCome != 0
	if msg[20] != 0 { // the body section (kind 0) comes first in every driver we use
		return "", moreToCome
	}
	doc := msg[21:]
	// BSON document: int32 size, then elements: type byte, cstring name, value. The first name is the command.
	rest := doc[5:]
	end := strings.IndexByte(string(rest), 0)
	if end < 0 {
		return "", moreToCome
	}
	return strings.ToLower(string(rest[:end])), moreToCome
}

func serveProxy(ctx context.Context, listenAddr, upstreamNetwork, upstreamAddr string, indexes *indexKeeper, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	gate := &writeGate{
		upstream: &upstreamClient{network: upstreamNetwork, addr: upstreamAddr},
		indexes:  indexes,
		logger:   logger,
	}
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			if err := proxyConn(ctx, client, upstreamNetwork, upstreamAddr, gate); err != nil &&
				!errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				logger.Debug("proxy connection ended", "error", err)
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
		gate.mu.Lock()
		err = gate.write(name, req, moreToCome, client, upstream)
		gate.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// write runs one write command under the gate: guards resolved, relayed, then the index keeper told.
func (g *writeGate) write(name string, req []byte, moreToCome bool, client, upstream net.Conn) error {
	m, err := parseOpMsg(req)
	if err != nil {
		return relay(req, moreToCome, client, upstream) // not ours to understand: pass it through
	}
	if name == "update" {
		rewritten, err := rewriteGuards(m, g.upstream.readVersion)
		if err != nil {
			g.logger.Warn("siaga-ferretdb: version lookup failed; forwarding the guard as is", "error", err)
		} else if rewritten {
			req = m.encode()
		}
	}
	err = relay(req, moreToCome, client, upstream)
	if g.indexes != nil {
		db, coll := m.commandTarget()
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
