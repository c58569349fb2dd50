package main

// The _id index FerretDB's own queries can use.
//
// FerretDB 1.24 (SQLite backend) creates each collection's unique _id index on the expression
// _ferretdb_sjson->"_id" but looks documents up with _ferretdb_sjson->'$._id'. SQLite matches index
// expressions by their text, so every lookup, update and delete by _id scans the table (measured: 30 ms per
// update at 10,000 documents, linear in the collection size; EXPLAIN QUERY PLAN says SCAN). The keeper
// adds an index on the expression the queries use, at the first write the proxy sees to a collection
// once its table is visible (the write that creates a collection is sometimes too early; the next one does
// it), and for every existing table at start-up. Measured on 10,000 documents of 1.5 KB: a replace by _id
// went from 40 ms to 1.3 ms, a delete from 30 ms to 0.6 ms, and neither grows with the collection any more. FerretDB does not list it (its index metadata is its own) and
// drops it with the table.
//
// It runs under the write gate, so no drop or create runs while it has a database file open. It opens the
// file through the same SQLite library FerretDB uses in this process, which is what makes two connection
// pools to one file safe (SQLite tracks POSIX locks per process and library).

import (
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "modernc.org/sqlite" // the driver FerretDB uses too
)

const idPathExpr = `_ferretdb_sjson->'$._id'`

type indexKeeper struct {
	dir    string
	seen   map[string]bool // "db\x00collection" already checked
	logger *slog.Logger
}

func newIndexKeeper(dir string, logger *slog.Logger) *indexKeeper {
	return &indexKeeper{dir: dir, seen: map[string]bool{}, logger: logger}
}

// ensureAll indexes every table of every database (at start-up, before clients connect).
func (k *indexKeeper) ensureAll() error {
	files, err := filepath.Glob(filepath.Join(k.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if _, err := k.ensureFile(f, ""); err != nil {
			return err
		}
	}
	return nil
}

// after is told of each write command that completed (under the gate).
func (k *indexKeeper) after(name, db, coll string) {
	key := db + "\x00" + coll
	switch name {
	case "insert", "update", "findandmodify", "create", "createindexes":
		if db == "" || coll == "" || k.seen[key] {
			return
		}
		found, err := k.ensureFile(filepath.Join(k.dir, db+".sqlite"), coll)
		if err != nil {
			k.logger.Warn("siaga-ferretdb: could not add the _id path index", "db", db, "error", err)
			return
		}
		// Only once the collection's table was seen and indexed; until then every write checks again
		// (a brand-new database's first table is not always visible to a second connection at once).
		k.seen[key] = found
	case "drop":
		delete(k.seen, key)
	case "dropdatabase":
		for s := range k.seen {
			if strings.HasPrefix(s, db+"\x00") {
				delete(k.seen, s)
			}
		}
	case "renamecollection":
		clear(k.seen)
	}
}

// ensureFile indexes every table of one database file; found says whether collection coll has a table.
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
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE '\_ferretdb\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return false, err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, quoteIdent(t+"_siaga_idpath"), quoteIdent(t), idPathExpr)
		if _, err := db.Exec(q); err != nil {
			return false, fmt.Errorf("%s: %w", t, err)
		}
	}
	if coll != "" {
		var table string
		err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table)
		found = err == nil && slices.Contains(tables, table)
	}
	k.logger.Debug("siaga-ferretdb: _id path indexes present", "file", filepath.Base(path), "tables", len(tables))
	return found, nil
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
