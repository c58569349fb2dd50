package main

import (
	"encoding/binary"
	"testing"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

func stmt(id string, v int32, extra ...[]byte) bsoncore.Document {
	q := bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "_id", id),
		bsoncore.AppendInt32Element(nil, "_v", v),
	)
	elems := append([][]byte{bsoncore.AppendDocumentElement(nil, "q", q),
		bsoncore.BuildDocumentElement(nil, "u", bsoncore.AppendInt32Element(nil, "n", 1))}, extra...)
	return bsoncore.BuildDocument(nil, elems...)
}

func updateCommand(inline bool, stmts ...bsoncore.Document) *opMessage {
	body := [][]byte{
		bsoncore.AppendStringElement(nil, "update", "shipments"),
		bsoncore.AppendBooleanElement(nil, "ordered", false),
		bsoncore.AppendStringElement(nil, "$db", "siaga"),
	}
	m := &opMessage{requestID: 7}
	if inline {
		values := make([]bsoncore.Value, len(stmts))
		for i, s := range stmts {
			values[i] = bsoncore.Value{Type: 0x03, Data: s}
		}
		body = append(body, bsoncore.BuildArrayElement(nil, "updates", values...))
	} else {
		m.sequences = []docSequence{{identifier: "updates", docs: stmts}}
	}
	m.body = bsoncore.BuildDocument(nil, body...)
	return m
}

func stored(versions map[string]float64) versionReader {
	return func(db, coll string, id bsoncore.Value) (float64, bool, error) {
		v, ok := versions[id.StringValue()]
		return v, ok, nil
	}
}

func filterIDs(t *testing.T, m *opMessage) []string {
	t.Helper()
	var docs []bsoncore.Document
	if len(m.sequences) > 0 {
		docs = m.sequences[0].docs
	} else {
		values, _ := m.body.Lookup("updates").Array().Values()
		for _, v := range values {
			docs = append(docs, v.Document())
		}
	}
	var ids []string
	for _, d := range docs {
		q := d.Lookup("q").Document()
		if elems, _ := q.Elements(); len(elems) != 1 {
			t.Fatalf("q still has %d keys: %s", len(elems), q)
		}
		if d.Lookup("u").Document().Lookup("n").Int32() != 1 {
			t.Fatalf("the update part was not kept: %s", d)
		}
		ids = append(ids, q.Lookup("_id").StringValue())
	}
	return ids
}

func TestGuardsResolvedInBothEncodings(t *testing.T) {
	for _, inline := range []bool{false, true} {
		m := updateCommand(inline, stmt("a", 3), stmt("b", 1), stmt("gone", 1))
		// a round trip through the wire encoding first
		parsed, err := parseOpMsg(m.encode())
		if err != nil {
			t.Fatal(err)
		}
		rewritten, err := rewriteGuards(parsed, stored(map[string]float64{"a": 3, "b": 2}))
		if err != nil || !rewritten {
			t.Fatalf("inline=%v: rewritten=%v err=%v", inline, rewritten, err)
		}
		again, err := parseOpMsg(parsed.encode())
		if err != nil {
			t.Fatal(err)
		}
		got := filterIDs(t, again)
		want := []string{"a", noMatchID, noMatchID}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("inline=%v: filters %v, want %v", inline, got, want)
			}
		}
	}
}

func TestOtherShapesPassThrough(t *testing.T) {
	upsert := stmt("a", 1, bsoncore.AppendBooleanElement(nil, "upsert", true))
	plain := bsoncore.BuildDocument(nil, bsoncore.BuildDocumentElement(nil, "q", bsoncore.AppendStringElement(nil, "_id", "a")))
	three := bsoncore.BuildDocument(nil, bsoncore.BuildDocumentElement(nil, "q",
		bsoncore.AppendStringElement(nil, "_id", "a"), bsoncore.AppendInt32Element(nil, "_v", 1),
		bsoncore.AppendStringElement(nil, "status", "open")))
	for _, s := range []bsoncore.Document{upsert, plain, three} {
		m := updateCommand(false, s)
		rewritten, err := rewriteGuards(m, stored(map[string]float64{"a": 1}))
		if err != nil || rewritten {
			t.Fatalf("%s: rewritten=%v err=%v", s, rewritten, err)
		}
	}
	// the same _id twice: FerretDB must evaluate both in order, so nothing is rewritten
	m := updateCommand(false, stmt("a", 1), stmt("a", 2))
	if rewritten, _ := rewriteGuards(m, stored(map[string]float64{"a": 1})); rewritten {
		t.Fatal("a command naming one _id twice was rewritten")
	}
}

func TestChecksumFlagIsDroppedOnReencode(t *testing.T) {
	m := updateCommand(false, stmt("a", 1))
	raw := m.encode()
	withSum := append(append([]byte{}, raw...), 1, 2, 3, 4)
	binary.LittleEndian.PutUint32(withSum[0:4], uint32(len(withSum)))
	binary.LittleEndian.PutUint32(withSum[16:20], flagChecksumPresent)
	parsed, err := parseOpMsg(withSum)
	if err != nil {
		t.Fatal(err)
	}
	out := parsed.encode()
	if binary.LittleEndian.Uint32(out[16:20])&flagChecksumPresent != 0 || len(out) != len(raw) {
		t.Fatalf("checksum flag kept or length wrong: %d vs %d", len(out), len(raw))
	}
	if name, _ := commandName(out); name != "update" {
		t.Fatalf("command name %q", name)
	}
}
