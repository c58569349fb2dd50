package main

// OP_MSG parsing and building for the proxy's two rewrites (cas.go, indexes.go), on mongo-driver's bsoncore.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

const flagChecksumPresent = 1 << 0

// opMessage is a parsed OP_MSG: the body document and any kind-1 document sequences.
type opMessage struct {
	requestID  int32
	responseTo int32
	flags      uint32
	body       bsoncore.Document
	sequences  []docSequence
}

type docSequence struct {
	identifier string
	docs       []bsoncore.Document
}

var errNotOpMsg = errors.New("not an OP_MSG")

func parseOpMsg(msg []byte) (*opMessage, error) {
	if len(msg) < headerLen+5 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return nil, errNotOpMsg
	}
	m := &opMessage{
		requestID:  int32(binary.LittleEndian.Uint32(msg[4:8])),
		responseTo: int32(binary.LittleEndian.Uint32(msg[8:12])),
		flags:      binary.LittleEndian.Uint32(msg[16:20]),
	}
	end := len(msg)
	if m.flags&flagChecksumPresent != 0 {
		end -= 4
	}
	rest := msg[20:end]
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case 0:
			doc, tail, ok := bsoncore.ReadDocument(rest)
			if !ok {
				return nil, fmt.Errorf("OP_MSG body: truncated document")
			}
			m.body, rest = doc, tail
		case 1:
			if len(rest) < 4 {
				return nil, fmt.Errorf("OP_MSG sequence: truncated size")
			}
			size := int(binary.LittleEndian.Uint32(rest[:4]))
			if size < 5 || size > len(rest) {
				return nil, fmt.Errorf("OP_MSG sequence: bad size %d", size)
			}
			section := rest[4:size]
			rest = rest[size:]
			id, tail, ok := bsoncore.ReadKey(section)
			if !ok {
				return nil, fmt.Errorf("OP_MSG sequence: truncated identifier")
			}
			seq := docSequence{identifier: id}
			for len(tail) > 0 {
				doc, more, ok := bsoncore.ReadDocument(tail)
				if !ok {
					return nil, fmt.Errorf("OP_MSG sequence %q: truncated document", id)
				}
				seq.docs = append(seq.docs, doc)
				tail = more
			}
			m.sequences = append(m.sequences, seq)
		default:
			return nil, fmt.Errorf("OP_MSG: unknown section kind %d", kind)
		}
	}
	if m.body == nil {
		return nil, fmt.Errorf("OP_MSG without a body")
	}
	return m, nil
}

// encode writes the message back; a checksum is never written (the flag is cleared), which MongoDB
// peers accept since the checksum is optional.
func (m *opMessage) encode() []byte {
	out := make([]byte, headerLen, headerLen+len(m.body)+64)
	binary.LittleEndian.PutUint32(out[4:8], uint32(m.requestID))
	binary.LittleEndian.PutUint32(out[8:12], uint32(m.responseTo))
	binary.LittleEndian.PutUint32(out[12:16], opMsg)
	out = binary.LittleEndian.AppendUint32(out, m.flags&^flagChecksumPresent)
	out = append(out, 0)
	out = append(out, m.body...)
	for _, seq := range m.sequences {
		out = append(out, 1)
		start := len(out)
		out = append(out, 0, 0, 0, 0)
		out = append(out, seq.identifier...)
		out = append(out, 0)
		for _, doc := range seq.docs {
			out = append(out, doc...)
		}
		binary.LittleEndian.PutUint32(out[start:], uint32(len(out)-start))
	}
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
}

// commandTarget returns the database ($db) and the collection (the command's first value, when a string).
func (m *opMessage) commandTarget() (db, coll string) {
	db, _ = m.body.Lookup("$db").StringValueOK()
	if first, err := m.body.IndexErr(0); err == nil {
		coll, _ = first.Value().StringValueOK()
	}
	return db, coll
}

// upstreamPool holds the proxy's own connections to FerretDB (used under the write gate).
type upstreamPool struct {
	network, addr string
	clients       chan *upstreamClient
}

func newUpstreamPool(network, addr string, size int) *upstreamPool {
	p := &upstreamPool{network: network, addr: addr, clients: make(chan *upstreamClient, size)}
	for range size {
		p.clients <- &upstreamClient{network: network, addr: addr}
	}
	return p
}

// upstreamClient runs single commands on FerretDB over its own connection, one at a time.
type upstreamClient struct {
	network, addr string
	conn          net.Conn
	nextID        int32
}

// run sends one read-only command and returns the reply's body. A connection that turns out broken (say
// FerretDB closed it while idle) is replaced, and the command sent once more.
func (u *upstreamClient) run(cmd bsoncore.Document) (bsoncore.Document, error) {
	reused := u.conn != nil
	reply, err := u.runOnce(cmd)
	if err != nil && reused {
		reply, err = u.runOnce(cmd)
	}
	return reply, err
}

func (u *upstreamClient) runOnce(cmd bsoncore.Document) (bsoncore.Document, error) {
	if u.conn == nil {
		c, err := net.Dial(u.network, u.addr)
		if err != nil {
			return nil, err
		}
		u.conn = c
	}
	u.nextID++
	m := &opMessage{requestID: u.nextID, body: cmd}
	if _, err := u.conn.Write(m.encode()); err != nil {
		u.reset()
		return nil, err
	}
	reply, err := readMessage(u.conn)
	if err != nil {
		u.reset()
		return nil, err
	}
	parsed, err := parseOpMsg(reply)
	if err != nil {
		u.reset()
		return nil, err
	}
	return parsed.body, nil
}

func (u *upstreamClient) reset() {
	if u.conn != nil {
		_ = u.conn.Close()
		u.conn = nil
	}
}
