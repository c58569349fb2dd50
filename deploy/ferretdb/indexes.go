package main

// The _id index FerretDB's own queries can use.
//
// FerretDB 1.24 (SQLite backend) creates each collection's unique _id index on the expression
// _ferretdb_sjson->"_id" but looks documents up, updates and deletes them with
// WHERE _ferretdb_sjson->'$._id' = ? (or IN (...)). SQLite matches index expressions by their text, so
// none of those statements uses the index: EXPLAIN QUERY PLAN says SCAN, and every find, update or delete
// by _id reads the whole table (measured at 10,000 documents of 1.5 KB: replace_one by _id 23 ms,
// delete_one 72 ms, find_one 22-31 ms; linear in the collection size). The keeper adds a second index,
// "<table>_siaga_idpath", on exactly the expression the queries use; with it the plans say SEARCH ...
// USING INDEX (indexes_test.go checks FerretDB's three statement shapes), and the same operations cost
// 1.2 ms, 0.8 ms and 3 ms, at 50,000 documents too. FerretDB does not list the index (its index metadata
// is its own) and drops it with the table. FerretDB's open connections use it from their next statement
// (SQLite re-prepares a statement whose schema changed); only an EXPLAIN on a connection that ran nothing
// since may still show the old plan.
//
// When it runs:
//   - at start-up, for every table of every database file, before clients are accepted;
//   - right after each write command that can create a collection (insert, update, findAndModify, create,
//     createIndexes, renameCollection) when that collection is not known to be indexed yet;
//   - every 500 ms, for each database file whose main file or write-ahead log changed since the keeper last
//     looked (two stat calls per file; nothing is opened when nothing changed). This catches any table the
//     two paths above missed, whoever created it (measured: 34 µs to stat 5 unchanged files, without the
//     gate; 0.6 ms under the gate to open, read and close a changed file that needs nothing).
//
// Each pass opens the file with database/sql (mode=rw: it never creates a file), reads sqlite_master once,
// creates the missing indexes and closes the file again: no handle is kept, since FerretDB deletes the file
// on dropDatabase. A pass over a file holds that database's write gate (proxy.go), and every command that creates or drops
// collections, indexes or databases is a gated command, so no drop runs while the keeper has a file open.
// It opens the file through the same SQLite library FerretDB uses in this process, which is what makes two
// connection pools to one file safe (SQLite tracks POSIX locks per process and library).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB uses too
)

const (
	idPathExpr        = `_ferretdb_sjson->'$._id'` // FerretDB's metadata.IDColumn, verbatim
	idPathIndexSuffix = "_siaga_idpath"
	maintainEvery     = 500 * time.Millisecond
)

type indexKeeper struct {
	dir    string
	logger *slog.Logger

	// mu guards the maps. Lock order: the write gate first, then mu (never the gate while holding mu).
	mu     sync.Mutex
	seen   map[string]bool                // "db\x00collection" whose table is known to have the index
	stamps map[string]fileStamp           // database file → its stamp right after the keeper's last pass over it
	statFn func(string) (fileStamp, bool) // stamp of a file (tests replace it)
}

// fileStamp tells whether a database file may have changed: size and mtime of the file and of its WAL
// (an empty WAL, which holds nothing, counts as none).
type fileStamp struct {
	size, mtime, walSize, walMtime int64
}

func newIndexKeeper(dir string, logger *slog.Logger) *indexKeeper {
	return &indexKeeper{dir: dir, logger: logger, seen: map[string]bool{}, stamps: map[string]fileStamp{}, statFn: stampOf}
}

func stampOf(path string) (fileStamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, false
	}
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		s.walSize, s.walMtime = wal.Size(), wal.ModTime().UnixNano()
	}
	return s, true
}

// maintain sweeps every interval until ctx is done.
func (k *indexKeeper) maintain(ctx context.Context, gate func(file string) sync.Locker, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.sweep(gate)
		}
	}
}

// sweep passes over every database file that changed since the last pass over it (all files, the first
// time), holding that database's gate (gate(file)) while it has the file open. It returns how many files
// it opened.
func (k *indexKeeper) sweep(gate func(file string) sync.Locker) int {
	files, err := filepath.Glob(filepath.Join(k.dir, "*.sqlite"))
	if err != nil {
		k.logger.Warn("siaga-ferretdb: listing database files", "error", err)
		return 0
	}
	current := make(map[string]fileStamp, len(files))
	for _, f := range files {
		if s, ok := k.statFn(f); ok {
			current[f] = s
		}
	}
	var changed []string
	k.mu.Lock()
	for f := range k.stamps {
		if _, ok := current[f]; !ok {
			delete(k.stamps, f) // dropped
		}
	}
	for _, f := range files {
		if s, ok := current[f]; ok && k.stamps[f] != s {
			changed = append(changed, f)
		}
	}
	k.mu.Unlock()
	if len(changed) == 0 {
		return 0
	}
	opened := 0
	for _, f := range changed {
		if k.passOver(f, gate(f)) {
			opened++
		}
	}
	return opened
}

// passOver indexes one changed file under its database's gate; it says whether the file was opened.
func (k *indexKeeper) passOver(f string, gate sync.Locker) bool {
	gate.Lock()
	defer gate.Unlock()
	// Under the gate now: the file cannot be dropped while it is open, but it may have gone since the stat.
	if _, ok := k.statFn(f); !ok {
		return false
	}
	if _, err := k.ensureFile(f, ""); err != nil {
		k.logger.Warn("siaga-ferretdb: could not add the _id path index", "file", filepath.Base(f), "error", err)
		return true // no stamp: the next sweep tries again
	}
	k.stamp(f)
	return true
}

// stamp records a file's state after a pass (the pass's own index creation included). Called under the gate.
func (k *indexKeeper) stamp(path string) {
	s, ok := k.statFn(path)
	k.mu.Lock()
	defer k.mu.Unlock()
	if ok {
		k.stamps[path] = s
	} else {
		delete(k.stamps, path)
	}
}

// after is told of each gated command once its reply went back, still under the gate.
func (k *indexKeeper) after(name, db, coll string) {
	key := db + "\x00" + coll
	switch name {
	case "insert", "update", "findandmodify", "create", "createindexes", "renamecollection":
		if name == "renamecollection" {
			// renameCollection runs on the admin database and names "db.coll" targets: forget them all,
			// and let the next sweep look at the file (its WAL changed).
			k.forget(func(string) bool { return true })
			return
		}
		if db == "" || coll == "" {
			return
		}
		k.mu.Lock()
		known := k.seen[key]
		k.mu.Unlock()
		if known {
			return
		}
		path := filepath.Join(k.dir, db+".sqlite")
		found, err := k.ensureFile(path, coll)
		if err != nil {
			k.logger.Warn("siaga-ferretdb: could not add the _id path index", "db", db, "error", err)
			return
		}
		k.stamp(path)
		if found { // until its table exists (an update that matched nothing creates none), every write checks
			k.mu.Lock()
			k.seen[key] = true
			k.mu.Unlock()
		}
	case "drop":
		k.forget(func(s string) bool { return s == key })
	case "dropdatabase":
		k.forget(func(s string) bool { return strings.HasPrefix(s, db+"\x00") })
	}
}

func (k *indexKeeper) forget(match func(string) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for s := range k.seen {
		if match(s) {
			delete(k.seen, s)
		}
	}
}

// ensureFile adds the index to every collection table of one database file that lacks it; found says
// whether collection coll (when not "") has a table in it. The caller holds the gate.
func (k *indexKeeper) ensureFile(path, coll string) (found bool, err error) {
	if _, err := os.Stat(path); err != nil {
		return false, nil // the database does not exist (yet): nothing to index
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return false, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// One read of the schema: each collection table, whether it has our index, and which collection it
	// stores (FerretDB's metadata table maps collection names to table names).
	hasMeta := false
	rows, err := db.Query(`SELECT t.name, EXISTS (SELECT 1 FROM sqlite_master i
			WHERE i.type = 'index' AND i.tbl_name = t.name AND i.name = t.name || ?)
		FROM sqlite_master t WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'`, idPathIndexSuffix)
	if err != nil {
		return false, err
	}
	var missing, tables []string
	for rows.Next() {
		var name string
		var indexed bool
		if err := rows.Scan(&name, &indexed); err != nil {
			rows.Close()
			return false, err
		}
		if name == "_ferretdb_collections" {
			hasMeta = true
		}
		if strings.HasPrefix(name, "_ferretdb_") {
			continue // FerretDB's metadata, not a collection
		}
		tables = append(tables, name)
		if !indexed {
			missing = append(missing, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, t := range missing {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, quoteIdent(t+idPathIndexSuffix), quoteIdent(t), idPathExpr)
		start := time.Now()
		if _, err := db.Exec(q); err != nil {
			return false, fmt.Errorf("%s: %w", t, err)
		}
		k.logger.Debug("siaga-ferretdb: created the _id path index", "file", filepath.Base(path), "table", t,
			"took", time.Since(start).Round(time.Microsecond))
	}
	if coll != "" && hasMeta {
		var table string
		err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table)
		switch {
		case err == nil:
			for _, t := range tables {
				found = found || t == table
			}
		case !errors.Is(err, sql.ErrNoRows):
			return false, err
		}
	}
	return found, nil
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
