package main

// Version guards resolved with an indexed read.
//
// Siaga's store writes a document with a filter {_id: X, _v: N}: replace it only if nobody changed it since
// it was read. FerretDB 1.24 pushes down only a filter that is exactly {_id: X}; any other filter makes it
// read and decode every document of the collection (measured: 215 ms per guarded replace at 4,730
// documents, growing linearly). Write commands already run one at a time behind the gate, so the proxy can
// evaluate the guard itself without changing its meaning: it reads the document's _v with {_id: X} (an
// indexed lookup), and forwards the statement with q = {_id: X} when the versions are equal, or with a
// q that matches nothing when they differ, which yields n = 0 exactly as the guard would have.
// Measured at 10,000 documents: a guarded replace costs 1.5 ms (215 ms at 4,730 before), a bulk of 50
// guarded replaces 0.67 ms per document.

import (
	"math"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// noMatchID is an _id no Siaga document has (ids are identifiers or UUIDs): a statement filtered by it
// matches nothing, found through the index.
const noMatchID = "~siaga.cas.version-mismatch~"

// guard is a statement's {_id, _v} filter.
type guard struct {
	id      bsoncore.Value
	version float64
}

// guardOf returns the statement's guard when it has exactly the shape the proxy resolves.
func guardOf(stmt bsoncore.Document) (guard, bool) {
	if v, ok := stmt.Lookup("upsert").BooleanOK(); ok && v {
		return guard{}, false
	}
	if v, ok := stmt.Lookup("multi").BooleanOK(); ok && v {
		return guard{}, false
	}
	q, ok := stmt.Lookup("q").DocumentOK()
	if !ok {
		return guard{}, false
	}
	elems, err := q.Elements()
	if err != nil || len(elems) != 2 {
		return guard{}, false
	}
	var g guard
	var haveID, haveV bool
	for _, e := range elems {
		switch e.Key() {
		case "_id":
			t := e.Value().Type
			if t != bsontype.String && t != bsontype.ObjectID {
				return guard{}, false
			}
			g.id, haveID = e.Value(), true
		case "_v":
			n, ok := integral(e.Value())
			if !ok {
				return guard{}, false
			}
			g.version, haveV = n, true
		}
	}
	return g, haveID && haveV
}

func integral(v bsoncore.Value) (float64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return float64(v.Int32()), true
	case bsontype.Int64:
		return float64(v.Int64()), true
	case bsontype.Double:
		f := v.Double()
		return f, f == math.Trunc(f)
	}
	return 0, false
}

// withFilter returns the statement with its q replaced by {_id: id}.
func withFilter(stmt bsoncore.Document, id bsoncore.Value) bsoncore.Document {
	elems, _ := stmt.Elements()
	out := make([]byte, 0, len(stmt)+16)
	idx, out := bsoncore.AppendDocumentStart(out)
	for _, e := range elems {
		if e.Key() == "q" {
			q := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "_id", id))
			out = bsoncore.AppendDocumentElement(out, "q", q)
			continue
		}
		out = append(out, e...)
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

// storedVersion reads the document's _v; found is false when the document does not exist.
type versionReader func(db, coll string, id bsoncore.Value) (version float64, found bool, err error)

// rewriteGuards resolves the guards of an update command. It returns the message to forward (the original
// when nothing was rewritten). A command naming one _id twice is forwarded unchanged: later statements
// must see the earlier ones, which FerretDB's own (slow but serialised) evaluation does.
func rewriteGuards(m *opMessage, read versionReader) (bool, error) {
	db, coll := m.commandTarget()
	if db == "" || coll == "" {
		return false, nil
	}
	type slot struct {
		stmt bsoncore.Document
		set  func(bsoncore.Document)
	}
	var slots []slot
	for si := range m.sequences {
		if m.sequences[si].identifier != "updates" {
			continue
		}
		seq := &m.sequences[si]
		for di := range seq.docs {
			slots = append(slots, slot{seq.docs[di], func(d bsoncore.Document) { seq.docs[di] = d }})
		}
	}
	var inline []bsoncore.Document
	if arr, ok := m.body.Lookup("updates").ArrayOK(); ok {
		values, err := arr.Values()
		if err != nil {
			return false, nil
		}
		for i, v := range values {
			d, ok := v.DocumentOK()
			if !ok {
				return false, nil
			}
			inline = append(inline, d)
			slots = append(slots, slot{d, func(nd bsoncore.Document) { inline[i] = nd }})
		}
	}
	seen := map[string]bool{}
	type pending struct {
		slot  slot
		guard guard
	}
	var todo []pending
	for _, s := range slots {
		g, ok := guardOf(s.stmt)
		if !ok {
			continue
		}
		key := g.id.String()
		if seen[key] {
			return false, nil
		}
		seen[key] = true
		todo = append(todo, pending{s, g})
	}
	if len(todo) == 0 {
		return false, nil
	}
	for _, p := range todo {
		version, found, err := read(db, coll, p.guard.id)
		if err != nil {
			return false, err
		}
		target := p.guard.id
		if !found || version != p.guard.version {
			target = bsoncore.Value{Type: bsontype.String, Data: bsoncore.AppendString(nil, noMatchID)}
		}
		p.slot.set(withFilter(p.slot.stmt, target))
	}
	if inline != nil {
		m.body = replaceArray(m.body, "updates", inline)
	}
	return true, nil
}

// replaceArray returns doc with the array under key replaced by docs.
func replaceArray(doc bsoncore.Document, key string, docs []bsoncore.Document) bsoncore.Document {
	elems, _ := doc.Elements()
	out := make([]byte, 0, len(doc)+64)
	idx, out := bsoncore.AppendDocumentStart(out)
	for _, e := range elems {
		if e.Key() != key {
			out = append(out, e...)
			continue
		}
		values := make([]bsoncore.Value, len(docs))
		for i, d := range docs {
			values[i] = bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: d}
		}
		out = bsoncore.BuildArrayElement(out, key, values...)
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

// readVersion reads _v through an indexed {_id} lookup on FerretDB.
func (u *upstreamClient) readVersion(db, coll string, id bsoncore.Value) (float64, bool, error) {
	cmd := bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "find", coll),
		bsoncore.BuildDocumentElement(nil, "filter", bsoncore.AppendValueElement(nil, "_id", id)),
		bsoncore.BuildDocumentElement(nil, "projection", bsoncore.AppendInt32Element(nil, "_v", 1)),
		bsoncore.AppendInt32Element(nil, "limit", 1),
		bsoncore.AppendBooleanElement(nil, "singleBatch", true),
		bsoncore.AppendStringElement(nil, "$db", db),
	)
	reply, err := u.run(cmd)
	if err != nil {
		return 0, false, err
	}
	batch, ok := reply.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return 0, false, errUpstream(reply)
	}
	values, err := batch.Values()
	if err != nil || len(values) == 0 {
		return 0, false, err
	}
	doc, ok := values[0].DocumentOK()
	if !ok {
		return 0, false, nil
	}
	v, ok := integral(doc.Lookup("_v"))
	if !ok {
		return math.NaN(), true, nil // a document without a numeric _v never matches a guard
	}
	return v, true, nil
}

type upstreamError string

func (e upstreamError) Error() string { return "upstream find failed: " + string(e) }

func errUpstream(reply bsoncore.Document) error {
	msg, _ := reply.Lookup("errmsg").StringValueOK()
	return upstreamError(msg)
}
