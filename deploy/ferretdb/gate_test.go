package main

import "testing"

// free reports whether a writer could take database db's gate right now (without waiting), and then
// leaves it as it was. "" is the all-databases gate.
func free(g *writeGate, db string) bool {
	if db == "" {
		if !g.all.TryLock() {
			return false
		}
		g.all.Unlock()
		return true
	}
	m := g.locker(db).(dbLocker).db
	if !g.all.TryRLock() {
		return false
	}
	defer g.all.RUnlock()
	if !m.TryLock() {
		return false
	}
	m.Unlock()
	return true
}

func TestGatesArePerDatabase(t *testing.T) {
	g := newWriteGate("unix", "/nonexistent", nil, nil)
	a := g.locker("siaga_logistics")
	a.Lock()
	if !free(g, "siaga_notifications") {
		t.Fatal("a write to another database must not wait for siaga_logistics' gate")
	}
	if free(g, "siaga_logistics") {
		t.Fatal("two writers could hold siaga_logistics' gate at once")
	}
	if free(g, "") {
		t.Fatal("the all-databases gate was free while a database's gate was held")
	}
	a.Unlock()
	if !free(g, "") || !free(g, "siaga_logistics") {
		t.Fatal("gates were not free after the last writer released them")
	}
	all := g.locker("")
	all.Lock()
	if free(g, "siaga_meetings") {
		t.Fatal("a database's gate was free while the all-databases gate was held")
	}
	all.Unlock()
	if g.fileLocker("/data/siaga_logistics.sqlite").(dbLocker).db != g.locker("siaga_logistics").(dbLocker).db {
		t.Fatal("the keeper's gate for a database file is not that database's gate")
	}
}
