package main

import (
	"database/sql"
	"testing"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

func strID(s string) bsoncore.Value {
	return bsoncore.Value{Type: bsontype.String, Data: bsoncore.AppendString(nil, s)}
}

// versionsDB is a database file laid out as FerretDB 1.24 lays it out (ferretLikeDB: collection "docs" in
// table docs_8a3f, 2,000 documents d0..d1999 at _v 1), plus documents with each kind of _v.
func versionsDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := ferretLikeDB(t, dir, "siaga_t", "docs_8a3f")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range []string{
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"int"}},"$k":["_id","_v"]},"_id":"a","_v":3}`,
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"long"}},"$k":["_id","_v"]},"_id":"b","_v":9007199254740993}`,
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"double"}},"$k":["_id","_v"]},"_id":"c","_v":5}`,
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"double"}},"$k":["_id","_v"]},"_id":"d","_v":5.5}`,
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"date"}},"$k":["_id","_v"]},"_id":"e","_v":7}`,
		`{"$s":{"p":{"_id":{"t":"string"}},"$k":["_id"]},"_id":"f"}`,
		`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"string"}},"$k":["_id","_v"]},"_id":"g","_v":"3"}`,
	} {
		exec(t, db, `INSERT INTO docs_8a3f VALUES (?)`, r)
	}
	return dir
}

func TestSQLiteVersionsReadTheStoredNumberOnly(t *testing.T) {
	dir := versionsDB(t)
	fallbacks := 0
	fallback := func(db, coll string, id bsoncore.Value) (float64, storedState, error) {
		fallbacks++
		return 42, docVersioned, nil
	}
	v := newSQLiteVersions(dir, fallback, 2)
	cases := []struct {
		id      string
		version float64
		state   storedState
	}{
		{"a", 3, docVersioned},
		{"b", 0, docOther}, // beyond 2^53: not exact as a float, FerretDB decides
		{"c", 5, docVersioned},
		{"d", 0, docOther},    // a fraction
		{"e", 0, docOther},    // a date is not a number to MongoDB
		{"f", 0, docOther},    // no _v
		{"g", 0, docOther},    // a string
		{"zz", 0, docMissing}, // no such document
	}
	for _, c := range cases {
		got, state, err := v.read("siaga_t", "docs", strID(c.id))
		if err != nil || got != c.version || state != c.state {
			t.Errorf("%s: got (%v, %v, %v), want (%v, %v)", c.id, got, state, err, c.version, c.state)
		}
	}
	if _, state, err := v.read("siaga_t", "other", strID("a")); err != nil || state != docMissing {
		t.Errorf("a collection that does not exist: got %v, %v", state, err)
	}
	if _, state, err := v.read("siaga_none", "docs", strID("a")); err != nil || state != docMissing {
		t.Errorf("a database that does not exist: got %v, %v", state, err)
	}
	if fallbacks != 0 {
		t.Fatalf("plain string ids went to FerretDB %d times", fallbacks)
	}
	for _, id := range []bsoncore.Value{
		strID(`a"b`), strID("x<y"), strID("é"), strID(""),
		{Type: bsontype.ObjectID, Data: bsoncore.AppendObjectID(nil, primitive.NewObjectID())},
	} {
		if got, _, _ := v.read("siaga_t", "docs", id); got != 42 {
			t.Errorf("id %v was not read through FerretDB", id)
		}
	}
	if fallbacks != 5 {
		t.Fatalf("fallbacks = %d, want 5", fallbacks)
	}
	v.before("dropdatabase", "siaga_t", "")
	if len(v.pools) != 1 || len(v.tables) != 0 { // siaga_none's pool stays; siaga_t's is closed
		t.Fatalf("after dropDatabase: %d pools, %d tables", len(v.pools), len(v.tables))
	}
}
