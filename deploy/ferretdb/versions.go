package main

// Guard versions read from SQLite directly.
//
// Resolving a version guard (cas.go) needs one number, the stored _v. Asking FerretDB for it (find {_id}
// with a projection) makes FerretDB decode the whole stored document from its JSON form before projecting:
// in the national benchmark's Go profile, FerretDB spent 44% of its CPU in find, almost all of it in
// encoding/json decoding SJSON, and the proxy's own version reads were a large share of those finds.
// SQLite can extract the one field from the stored JSON itself, so the proxy reads
//
//	SELECT sjson->>'$._v', sjson->>'$."$s".p._v.t' FROM <table> WHERE sjson->'$._id' = ?
//
// on the same indexed expression FerretDB queries use (indexes.go), through its own small read-only
// connection pool per database file. The second column is the SJSON schema's type of _v: only "int",
// "long" and "double" are numbers to MongoDB (a "date" is stored as a number too, and must not match).
//
// It reads only documents whose _id is a plain string that JSON-encodes without escapes (what Siaga's
// stores use); for any other _id it falls back to FerretDB (fallback). The answer is the same either way:
// the read runs under the database's write gate, after FerretDB committed every earlier write, and SQLite
// in WAL mode shows a reader the last committed state. A pool is closed before its database is dropped
// (dropDatabase deletes the file), and a collection's table name is forgotten when it is dropped or renamed.

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// sjsonColumn is FerretDB's metadata.DefaultColumn: the column that holds each document as SJSON.
const sjsonColumn = "_ferretdb_sjson"

type sqliteVersions struct {
	dir      string
	fallback versionReader
	size     int // connections per database file

	mu     sync.Mutex
	pools  map[string]*sql.DB // database → its read pool
	tables map[string]string  // "db\x00collection" → table name
}

func newSQLiteVersions(dir string, fallback versionReader, size int) *sqliteVersions {
	return &sqliteVersions{dir: dir, fallback: fallback, size: size, pools: map[string]*sql.DB{}, tables: map[string]string{}}
}

// plainID returns the id as a string when the proxy may look it up in SQLite: printable ASCII that
// encoding/json (which FerretDB's SJSON uses) writes between quotes unchanged.
func plainID(id bsoncore.Value) (string, bool) {
	if id.Type != bsontype.String {
		return "", false
	}
	s, ok := id.StringValueOK()
	if !ok || s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return "", false
		}
	}
	return s, true
}

// read is a versionReader.
func (v *sqliteVersions) read(db, coll string, id bsoncore.Value) (float64, storedState, error) {
	s, ok := plainID(id)
	if !ok {
		return v.fallback(db, coll, id)
	}
	pool, table, err := v.lookup(db, coll)
	if err != nil {
		return 0, docOther, err
	}
	if table == "" {
		return 0, docMissing, nil // no such collection (yet): no document
	}
	key, _ := json.Marshal(s)
	q := fmt.Sprintf(`SELECT %s->>'$._v', %s->>'$."$s".p._v.t' FROM %s WHERE %s = ?`,
		sjsonColumn, sjsonColumn, quoteIdent(table), idPathExpr)
	var value, kind sql.NullString
	switch err := pool.QueryRow(q, string(key)).Scan(&value, &kind); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, docMissing, nil
	case err != nil:
		return 0, docOther, err
	}
	if !value.Valid || !kind.Valid {
		return 0, docOther, nil // no _v: FerretDB decides
	}
	version, ok := sjsonIntegral(kind.String, value.String)
	if !ok {
		return 0, docOther, nil
	}
	return version, docVersioned, nil
}

// sjsonIntegral is integral (cas.go) for a number as SJSON stores it: its schema type and its JSON text.
func sjsonIntegral(kind, text string) (float64, bool) {
	switch kind {
	case "int", "long":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n > maxExact || n < -maxExact {
			return 0, false
		}
		return float64(n), true
	case "double":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > maxExact {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// lookup returns the database's read pool and the collection's table ("" when it has none).
func (v *sqliteVersions) lookup(db, coll string) (*sql.DB, string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pool, ok := v.pools[db]
	if !ok {
		path := filepath.Join(v.dir, db+".sqlite")
		p, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(1)")
		if err != nil {
			return nil, "", err
		}
		p.SetMaxOpenConns(v.size)
		p.SetMaxIdleConns(v.size)
		pool = p
		v.pools[db] = pool
	}
	key := db + "\x00" + coll
	if t, ok := v.tables[key]; ok {
		return pool, t, nil
	}
	var table string
	err := pool.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return pool, "", nil // not cached: the collection may be created by the next write
	case err != nil:
		if missingFile(err) {
			return pool, "", nil
		}
		return nil, "", err
	}
	v.tables[key] = table
	return pool, table, nil
}

// before is told of each gated command before it is relayed, under the gate.
func (v *sqliteVersions) before(name, db, coll string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch name {
	case "drop":
		delete(v.tables, db+"\x00"+coll)
	case "dropdatabase":
		if pool, ok := v.pools[db]; ok {
			_ = pool.Close()
			delete(v.pools, db)
		}
		for k := range v.tables {
			if len(k) > len(db) && k[:len(db)+1] == db+"\x00" {
				delete(v.tables, k)
			}
		}
	case "renamecollection":
		v.tables = map[string]string{}
	}
}

// missingFile says whether SQLite could not open the database file (it does not exist yet).
func missingFile(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return coded.Code() == 14 // SQLITE_CANTOPEN
	}
	return false
}
