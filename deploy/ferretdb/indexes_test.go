package main

import (
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A database file laid out as FerretDB 1.24's SQLite backend lays it out: its metadata table, and per
// collection a STRICT table of one JSON column with the unique index on _ferretdb_sjson->"_id".
func ferretLikeDB(t *testing.T, dir, name string, tables ...string) string {
	t.Helper()
	path := filepath.Join(dir, name+".sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec(t, db, `CREATE TABLE IF NOT EXISTS "_ferretdb_collections" (name TEXT NOT NULL UNIQUE CHECK(name != ''), `+
		`table_name TEXT NOT NULL UNIQUE CHECK(table_name != ''), settings TEXT NOT NULL CHECK(settings != '')) STRICT`)
	for _, table := range tables {
		exec(t, db, fmt.Sprintf(`CREATE TABLE %q (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`, table))
		exec(t, db, fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (_ferretdb_sjson->"_id")`, table+"__id_", table))
		exec(t, db, `INSERT INTO "_ferretdb_collections" (name, table_name, settings) VALUES (?, ?, '{}')`,
			strings.Split(table, "_")[0], table)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2000 {
			if _, err := tx.Exec(fmt.Sprintf(`INSERT INTO %q VALUES (?)`, table),
				fmt.Sprintf(`{"$s":{"p":{"_id":{"t":"string"},"_v":{"t":"int"}},"$k":["_id","_v"]},"_id":"d%d","_v":1}`, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// The statements FerretDB 1.24 runs for a query, an update and a delete by _id (collection.go: Query,
// UpdateAll, DeleteAll), with its IDColumn expression.
func ferretStatements(table string) map[string]string {
	const idColumn = `_ferretdb_sjson->'$._id'`
	return map[string]string{
		"select": fmt.Sprintf(`SELECT  _ferretdb_sjson FROM %q WHERE %s = ? LIMIT ?`, table, idColumn),
		"update": fmt.Sprintf(`UPDATE %q SET _ferretdb_sjson = ? WHERE %s = ?`, table, idColumn),
		"delete": fmt.Sprintf(`DELETE FROM %q WHERE %s IN (?, ?)`, table, idColumn),
	}
}

func plan(t *testing.T, path, q string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := strings.Count(q, "?")
	args := make([]any, n)
	for i := range args {
		args[i] = `"d1"`
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

func indexNames(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%siaga%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		names = append(names, name)
	}
	return names
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestFerretDBStatementsUseTheIndexOnlyOnceTheKeeperAddedIt(t *testing.T) {
	dir := t.TempDir()
	path := ferretLikeDB(t, dir, "siaga", "docs_0123abcd")
	for name, q := range ferretStatements("docs_0123abcd") {
		if p := plan(t, path, q); !strings.Contains(p, "SCAN") {
			t.Fatalf("%s: expected FerretDB's own index not to serve it (the defect), plan: %s", name, p)
		}
	}
	k := newIndexKeeper(dir, quietLogger())
	var gate sync.Mutex
	if n := k.sweep(one(&gate)); n != 1 {
		t.Fatalf("first sweep opened %d files", n)
	}
	for name, q := range ferretStatements("docs_0123abcd") {
		p := plan(t, path, q)
		if !strings.Contains(p, "SEARCH") || !strings.Contains(p, "USING INDEX docs_0123abcd_siaga_idpath") {
			t.Fatalf("%s: plan %s", name, p)
		}
	}
	if got := indexNames(t, path); len(got) != 1 || got[0] != "docs_0123abcd_siaga_idpath" {
		t.Fatalf("indexes %v (FerretDB's metadata table must not get one)", got)
	}
}

func TestSweepOpensOnlyChangedFilesAndHoldsTheGate(t *testing.T) {
	dir := t.TempDir()
	a := ferretLikeDB(t, dir, "a", "docs_00000001")
	ferretLikeDB(t, dir, "b", "docs_00000002")
	k := newIndexKeeper(dir, quietLogger())
	var gate sync.Mutex
	if n := k.sweep(one(&gate)); n != 2 {
		t.Fatalf("first sweep opened %d files, want 2", n)
	}
	if n := k.sweep(one(&gate)); n != 0 {
		t.Fatalf("a sweep with nothing changed opened %d files", n)
	}

	// a new collection in a: the next sweep finds its table, but only while it can hold the gate
	ferretLikeDB(t, dir, "a", "more_00000003")
	gate.Lock()
	done := make(chan int)
	go func() { done <- k.sweep(one(&gate)) }()
	select {
	case n := <-done:
		t.Fatalf("the sweep ran (%d files) while the gate was held", n)
	case <-time.After(100 * time.Millisecond):
	}
	if got := indexNames(t, a); len(got) != 1 {
		t.Fatalf("indexed without the gate: %v", got)
	}
	gate.Unlock()
	if n := <-done; n != 1 {
		t.Fatalf("sweep after a change opened %d files, want 1", n)
	}
	if got := indexNames(t, a); len(got) != 2 {
		t.Fatalf("indexes of a: %v", got)
	}

	// a dropped database is forgotten, and never re-created by the keeper
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(a + "-wal")
	_ = os.Remove(a + "-shm")
	k.sweep(one(&gate))
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatalf("the keeper re-created a dropped database: %v", err)
	}
	if found, err := k.ensureFile(a, "docs"); found || err != nil {
		t.Fatalf("ensureFile on a missing file: %v %v", found, err)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatalf("ensureFile created a file: %v", err)
	}
	k.mu.Lock()
	_, kept := k.stamps[a]
	k.mu.Unlock()
	if kept {
		t.Fatal("the stamp of a dropped file was kept")
	}
}

func TestAfterAWriteIndexesItsCollectionOnce(t *testing.T) {
	dir := t.TempDir()
	path := ferretLikeDB(t, dir, "siaga", "shipments_0000000a")
	k := newIndexKeeper(dir, quietLogger())
	stats := 0
	k.statFn = func(p string) (fileStamp, bool) { stats++; return stampOf(p) }

	k.after("insert", "siaga", "shipments")
	if got := indexNames(t, path); len(got) != 1 {
		t.Fatalf("indexes after the first write: %v", got)
	}
	before := stats
	k.after("update", "siaga", "shipments")
	if stats != before {
		t.Fatal("a write to a collection known to be indexed looked at the file again")
	}
	if n := k.sweep(one(&sync.Mutex{})); n != 0 {
		t.Fatalf("the sweep after the write's own pass opened %d files", n)
	}
	k.after("drop", "siaga", "shipments")
	k.mu.Lock()
	seen := k.seen["siaga\x00shipments"]
	k.mu.Unlock()
	if seen {
		t.Fatal("a dropped collection is still known as indexed")
	}
	// an update that matched nothing in a collection that does not exist: nothing found, nothing remembered
	k.after("update", "siaga", "nothing")
	k.mu.Lock()
	seen = k.seen["siaga\x00nothing"]
	k.mu.Unlock()
	if seen {
		t.Fatal("a collection without a table was remembered as indexed")
	}
}

// one is a gate function that returns the same lock for every file.
func one(l sync.Locker) func(string) sync.Locker {
	return func(string) sync.Locker { return l }
}
