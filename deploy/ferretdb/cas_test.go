package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// stmt is an update statement {q: {_id: id, _v: v}, u: {n: 1}, ...extra}.
func stmt(id string, v int32, extra ...[]byte) bsoncore.Document {
	q := bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "_id", id),
		bsoncore.AppendInt32Element(nil, "_v", v),
	)
	return stmtQ(q, extra...)
}

func stmtQ(q bsoncore.Document, extra ...[]byte) bsoncore.Document {
	elems := append([][]byte{bsoncore.AppendDocumentElement(nil, "q", q),
		bsoncore.BuildDocumentElement(nil, "u", bsoncore.AppendInt32Element(nil, "n", 1))}, extra...)
	return bsoncore.BuildDocument(nil, elems...)
}

func updateBody(inline bool, ordered bool, stmts ...bsoncore.Document) bsoncore.Document {
	body := [][]byte{
		bsoncore.AppendStringElement(nil, "update", "shipments"),
		bsoncore.AppendBooleanElement(nil, "ordered", ordered),
	}
	if inline {
		values := make([]bsoncore.Value, len(stmts))
		for i, s := range stmts {
			values[i] = bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: s}
		}
		body = append(body, bsoncore.BuildArrayElement(nil, "updates", values...))
	}
	body = append(body, bsoncore.AppendStringElement(nil, "$db", "siaga"))
	return bsoncore.BuildDocument(nil, body...)
}

func updateCommand(inline bool, stmts ...bsoncore.Document) *opMessage {
	m := &opMessage{requestID: 7, body: updateBody(inline, false, stmts...)}
	if !inline {
		m.sequences = []docSequence{{identifier: "updates", docs: stmts}}
	}
	return m
}

// wireUpdate frames an update command by hand, as pymongo does: header, flags, a kind-0 body section, then
// (unless inline) a kind-1 "updates" sequence; with checksum, a trailing CRC-32C and the flag bit set.
func wireUpdate(inline, checksum bool, stmts ...bsoncore.Document) []byte {
	flags := uint32(0)
	if checksum {
		flags |= flagChecksumPresent
	}
	msg := make([]byte, 16)
	binary.LittleEndian.PutUint32(msg[4:], 42)     // requestID
	binary.LittleEndian.PutUint32(msg[12:], opMsg) // opCode
	msg = binary.LittleEndian.AppendUint32(msg, flags)
	msg = append(msg, 0)
	msg = append(msg, updateBody(inline, true, stmts...)...)
	if !inline {
		var seq []byte
		seq = append(seq, "updates\x00"...)
		for _, s := range stmts {
			seq = append(seq, s...)
		}
		msg = append(msg, 1)
		msg = binary.LittleEndian.AppendUint32(msg, uint32(4+len(seq)))
		msg = append(msg, seq...)
	}
	if checksum {
		msg = binary.LittleEndian.AppendUint32(msg, 0) // placeholder, fixed below
	}
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	if checksum {
		sum := crc32.Checksum(msg[:len(msg)-4], crc32.MakeTable(crc32.Castagnoli))
		binary.LittleEndian.PutUint32(msg[len(msg)-4:], sum)
	}
	return msg
}

// frames decodes a message's framing independently of parseOpMsg: it checks the lengths and returns the
// statements (from the "updates" sequence, or the body's "updates" array).
func frames(t *testing.T, msg []byte) (flags uint32, body bsoncore.Document, stmts []bsoncore.Document) {
	t.Helper()
	if int(binary.LittleEndian.Uint32(msg[0:])) != len(msg) {
		t.Fatalf("message length field %d, message %d bytes", binary.LittleEndian.Uint32(msg[0:]), len(msg))
	}
	flags = binary.LittleEndian.Uint32(msg[16:])
	end := len(msg)
	if flags&flagChecksumPresent != 0 {
		end -= 4
	}
	for p := 20; p < end; {
		kind := msg[p]
		p++
		size := int(binary.LittleEndian.Uint32(msg[p:]))
		switch kind {
		case 0:
			body = bsoncore.Document(msg[p : p+size])
		case 1:
			name := msg[p+4 : p+4+bytes.IndexByte(msg[p+4:], 0)]
			if string(name) != "updates" {
				t.Fatalf("sequence %q", name)
			}
			for d := p + 4 + len(name) + 1; d < p+size; {
				n := int(binary.LittleEndian.Uint32(msg[d:]))
				stmts = append(stmts, bsoncore.Document(msg[d:d+n]))
				d += n
			}
		default:
			t.Fatalf("section kind %d", kind)
		}
		p += size
		if p > end {
			t.Fatalf("section overruns the message")
		}
	}
	if err := body.Validate(); err != nil {
		t.Fatalf("body: %v", err)
	}
	if arr, ok := body.Lookup("updates").ArrayOK(); ok {
		values, _ := arr.Values()
		for _, v := range values {
			stmts = append(stmts, v.Document())
		}
	}
	return flags, body, stmts
}

type storedDoc struct {
	version float64
	state   storedState
}

func stored(docs map[string]storedDoc) (versionReader, *[]string) {
	var reads []string
	var mu sync.Mutex
	return func(db, coll string, id bsoncore.Value) (float64, storedState, error) {
		key, ok := id.StringValueOK()
		if !ok {
			key = id.ObjectID().Hex()
		}
		mu.Lock()
		defer mu.Unlock()
		reads = append(reads, key)
		d, ok := docs[key]
		if !ok {
			return 0, docMissing, nil
		}
		return d.version, d.state, nil
	}, &reads
}

func versioned(v float64) storedDoc { return storedDoc{v, docVersioned} }

// filterOf describes a statement's q: the _id alone ("a", or noMatchID), or "unchanged" when q is the
// original two-key guard.
func filterOf(t *testing.T, s bsoncore.Document) string {
	t.Helper()
	q := s.Lookup("q").Document()
	elems, _ := q.Elements()
	if d, ok := s.Lookup("u").DocumentOK(); !ok || d.Lookup("n").Int32() != 1 {
		t.Fatalf("the update part was not kept: %s", s)
	}
	if len(elems) != 1 {
		return "unchanged"
	}
	if id, ok := q.Lookup("_id").StringValueOK(); ok {
		return id
	}
	if id, ok := q.Lookup("_id").ObjectIDOK(); ok {
		return id.Hex()
	}
	return "other"
}

func filters(t *testing.T, stmts []bsoncore.Document) []string {
	t.Helper()
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = filterOf(t, s)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGuardsResolvedInBothEncodingsAndWithChecksum(t *testing.T) {
	for _, inline := range []bool{false, true} {
		for _, checksum := range []bool{false, true} {
			raw := wireUpdate(inline, checksum, stmt("a", 3), stmt("b", 1), stmt("gone", 1))
			if name, _ := commandName(raw); name != "update" {
				t.Fatalf("command name %q", name)
			}
			m, err := parseOpMsg(raw)
			if err != nil {
				t.Fatal(err)
			}
			read, _ := stored(map[string]storedDoc{"a": versioned(3), "b": versioned(2)})
			rewritten, err := rewriteGuards(m, read, 1)
			if err != nil || !rewritten {
				t.Fatalf("inline=%v checksum=%v: rewritten=%v err=%v", inline, checksum, rewritten, err)
			}
			out := m.encode()
			flags, body, stmts := frames(t, out)
			if flags&flagChecksumPresent != 0 {
				t.Fatal("the checksum flag survived a rewrite (its CRC would no longer match)")
			}
			want := []string{"a", noMatchID, noMatchID}
			if got := filters(t, stmts); !equal(got, want) {
				t.Fatalf("inline=%v checksum=%v: filters %v, want %v", inline, checksum, got, want)
			}
			if o, _ := body.Lookup("ordered").BooleanOK(); !o || body.Lookup("$db").StringValue() != "siaga" {
				t.Fatalf("body fields lost: %s", body)
			}
			if name, _ := commandName(out); name != "update" {
				t.Fatalf("command name after rewrite %q", name)
			}
			if !inline && len(m.sequences) != 1 {
				t.Fatalf("sequences %d", len(m.sequences))
			}
			if binary.LittleEndian.Uint32(out[4:]) != 42 {
				t.Fatal("requestID not kept")
			}
		}
	}
}

func TestEncodeOfAnUntouchedMessageIsByteIdentical(t *testing.T) {
	for _, inline := range []bool{false, true} {
		raw := wireUpdate(inline, false, stmt("a", 3), stmt("b", 1))
		m, err := parseOpMsg(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.encode(), raw) {
			t.Fatalf("inline=%v: re-encoding changed the message", inline)
		}
	}
}

func TestObjectIDsAndNumberTypes(t *testing.T) {
	oid := primitive.NewObjectID()
	q := func(v []byte) bsoncore.Document {
		return bsoncore.BuildDocument(nil, bsoncore.AppendObjectIDElement(nil, "_id", oid), v)
	}
	cases := []struct {
		name string
		v    []byte
		want string
	}{
		{"int32", bsoncore.AppendInt32Element(nil, "_v", 4), oid.Hex()},
		{"int64", bsoncore.AppendInt64Element(nil, "_v", 4), oid.Hex()},
		{"double", bsoncore.AppendDoubleElement(nil, "_v", 4.0), oid.Hex()},
		{"other version", bsoncore.AppendInt64Element(nil, "_v", 5), noMatchID},
		{"fraction", bsoncore.AppendDoubleElement(nil, "_v", 4.5), "unchanged"},
		{"huge int64", bsoncore.AppendInt64Element(nil, "_v", 1<<60), "unchanged"},
		{"string", bsoncore.AppendStringElement(nil, "_v", "4"), "unchanged"},
		{"operator", bsoncore.BuildDocumentElement(nil, "_v", bsoncore.AppendInt32Element(nil, "$gte", 4)), "unchanged"},
	}
	for _, c := range cases {
		m := updateCommand(false, stmtQ(q(c.v)))
		read, _ := stored(map[string]storedDoc{oid.Hex(): versioned(4)})
		if _, err := rewriteGuards(m, read, 1); err != nil {
			t.Fatal(err)
		}
		if got := filterOf(t, m.sequences[0].docs[0]); got != c.want {
			t.Errorf("%s: filter %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOtherShapesPassThrough(t *testing.T) {
	upsert := stmt("a", 1, bsoncore.AppendBooleanElement(nil, "upsert", true))
	multi := stmt("a", 1, bsoncore.AppendBooleanElement(nil, "multi", true))
	collation := stmt("a", 1, bsoncore.BuildDocumentElement(nil, "collation", bsoncore.AppendStringElement(nil, "locale", "en")))
	plain := stmtQ(bsoncore.BuildDocument(nil, bsoncore.AppendStringElement(nil, "_id", "a")))
	three := stmtQ(bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "_id", "a"), bsoncore.AppendInt32Element(nil, "_v", 1),
		bsoncore.AppendStringElement(nil, "status", "open")))
	intID := stmtQ(bsoncore.BuildDocument(nil,
		bsoncore.AppendInt32Element(nil, "_id", 1), bsoncore.AppendInt32Element(nil, "_v", 1)))
	noID := stmtQ(bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "key", "a"), bsoncore.AppendInt32Element(nil, "_v", 1)))
	for _, s := range []bsoncore.Document{upsert, multi, collation, plain, three, intID, noID} {
		for _, inline := range []bool{false, true} {
			raw := wireUpdate(inline, false, s)
			m, err := parseOpMsg(raw)
			if err != nil {
				t.Fatal(err)
			}
			read, reads := stored(map[string]storedDoc{"a": versioned(1)})
			rewritten, err := rewriteGuards(m, read, 1)
			if err != nil || rewritten || len(*reads) != 0 {
				t.Fatalf("%s: rewritten=%v err=%v reads=%v", s, rewritten, err, *reads)
			}
			if !bytes.Equal(m.encode(), raw) {
				t.Fatalf("%s: message changed", s)
			}
		}
	}
	// other commands are not touched even if they carry an "updates" field
	find := &opMessage{body: bsoncore.BuildDocument(nil,
		bsoncore.AppendStringElement(nil, "find", "shipments"),
		bsoncore.AppendDocumentElement(nil, "filter", stmt("a", 1).Lookup("q").Document()),
		bsoncore.AppendStringElement(nil, "$db", "siaga"))}
	read, reads := stored(map[string]storedDoc{"a": versioned(1)})
	if rewritten, _ := rewriteGuards(find, read, 1); rewritten || len(*reads) != 0 {
		t.Fatal("a find was rewritten")
	}
}

func TestStoredVersionFerretDBMustJudge(t *testing.T) {
	m := updateCommand(true, stmt("a", 1), stmt("b", 1))
	read, _ := stored(map[string]storedDoc{"a": {0, docOther}, "b": versioned(1)})
	if rewritten, err := rewriteGuards(m, read, 1); err != nil || !rewritten {
		t.Fatalf("rewritten=%v err=%v", rewritten, err)
	}
	_, _, stmts := frames(t, m.encode())
	if got, want := filters(t, stmts), []string{"unchanged", "b"}; !equal(got, want) {
		t.Fatalf("filters %v, want %v", got, want)
	}
}

// Versions are read before the command runs, so a guard is resolved only when no earlier statement of the
// same command can have changed its document.
func TestEarlierStatementsOfTheCommand(t *testing.T) {
	wild := stmtQ(bsoncore.BuildDocument(nil, bsoncore.AppendStringElement(nil, "status", "open")),
		bsoncore.AppendBooleanElement(nil, "multi", true))
	in := stmtQ(bsoncore.BuildDocument(nil, bsoncore.BuildDocumentElement(nil, "_id",
		bsoncore.BuildArrayElement(nil, "$in", bsoncore.Value{Type: bsontype.String, Data: bsoncore.AppendString(nil, "a")}))))
	pinA := stmtQ(bsoncore.BuildDocument(nil, bsoncore.AppendStringElement(nil, "_id", "a")))
	docs := map[string]storedDoc{"a": versioned(1), "b": versioned(1), "c": versioned(1)}
	cases := []struct {
		name  string
		stmts []bsoncore.Document
		want  []string
	}{
		{"same _id twice", []bsoncore.Document{stmt("a", 1), stmt("b", 1), stmt("a", 2)}, []string{"a", "b", "unchanged"}},
		{"pinned by a plain statement", []bsoncore.Document{pinA, stmt("a", 1), stmt("b", 1)}, []string{"unchanged", "unchanged", "b"}},
		{"after a multi", []bsoncore.Document{stmt("a", 1), wild, stmt("b", 1)}, []string{"a", "unchanged", "unchanged"}},
		{"after $in", []bsoncore.Document{in, stmt("c", 1)}, []string{"unchanged", "unchanged"}},
	}
	for _, c := range cases {
		for _, inline := range []bool{false, true} {
			m, err := parseOpMsg(wireUpdate(inline, false, c.stmts...))
			if err != nil {
				t.Fatal(err)
			}
			read, _ := stored(docs)
			if _, err := rewriteGuards(m, read, 1); err != nil {
				t.Fatal(err)
			}
			_, _, stmts := frames(t, m.encode())
			got := filters(t, stmts)
			// the non-guard statements have a one-key or other q: compare only the guards' positions
			for i, s := range c.stmts {
				if _, ok := guardOf(s); !ok {
					got[i] = "unchanged"
				}
			}
			if !equal(got, c.want) {
				t.Errorf("%s (inline=%v): filters %v, want %v", c.name, inline, got, c.want)
			}
		}
	}
}

func TestParseRejectsBrokenFraming(t *testing.T) {
	raw := wireUpdate(false, false, stmt("a", 1))
	if _, err := parseOpMsg(raw[:len(raw)-3]); err == nil {
		t.Fatal("a truncated message parsed")
	}
	bad := append([]byte{}, raw...)
	bad[20] = 7 // section kind
	if _, err := parseOpMsg(bad); err == nil {
		t.Fatal("an unknown section kind parsed")
	}
}

func TestParallelReadsKeepTheStatementsApart(t *testing.T) {
	docs := map[string]storedDoc{}
	var stmts []bsoncore.Document
	var want []string
	for i := range 60 {
		id := fmt.Sprintf("d%02d", i)
		docs[id] = versioned(float64(i % 3))
		stmts = append(stmts, stmt(id, 1))
		if i%3 == 1 {
			want = append(want, id)
		} else {
			want = append(want, noMatchID)
		}
	}
	for _, inline := range []bool{false, true} {
		m, err := parseOpMsg(wireUpdate(inline, false, stmts...))
		if err != nil {
			t.Fatal(err)
		}
		read, reads := stored(docs)
		if rewritten, err := rewriteGuards(m, read, 4); err != nil || !rewritten {
			t.Fatalf("rewritten=%v err=%v", rewritten, err)
		}
		if len(*reads) != 60 {
			t.Fatalf("%d reads", len(*reads))
		}
		_, _, out := frames(t, m.encode())
		if got := filters(t, out); !equal(got, want) {
			t.Fatalf("inline=%v: filters %v, want %v", inline, got, want)
		}
	}
	// a failed read leaves the command as it was
	m := updateCommand(false, stmts...)
	before := m.encode()
	failing := func(db, coll string, id bsoncore.Value) (float64, storedState, error) {
		if id.StringValue() == "d17" {
			return 0, docOther, errors.New("connection reset")
		}
		return 1, docVersioned, nil
	}
	if rewritten, err := rewriteGuards(m, failing, 4); err == nil || rewritten {
		t.Fatalf("rewritten=%v err=%v", rewritten, err)
	}
	if !bytes.Equal(m.encode(), before) {
		t.Fatal("a failed lookup changed the command")
	}
}

func TestCommandNameFindsTheBodyInAnySectionOrder(t *testing.T) {
	m := updateCommand(false, stmt("a", 1))
	raw := m.encode()
	if name, _ := commandName(raw); name != "update" {
		t.Fatalf("command %q", name)
	}
	// move the body section after the document sequence
	bodyLen := 1 + len(m.body)
	moved := append(append(append([]byte{}, raw[:20]...), raw[20+bodyLen:]...), raw[20:20+bodyLen]...)
	if name, _ := commandName(moved); name != "update" {
		t.Fatalf("command with the body last: %q", name)
	}
	if _, err := parseOpMsg(moved); err != nil {
		t.Fatal(err)
	}
	if name, _ := commandName(raw[:30]); name != "" {
		t.Fatalf("a truncated message named command %q", name)
	}
}
