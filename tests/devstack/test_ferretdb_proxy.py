"""Our FerretDB front (deploy/ferretdb): version guards keep MongoDB's meaning when the proxy resolves them,
and lookups by _id use an index. The Go unit tests of the wire rewriting run here too, so CI runs them."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne

from ..conftest import Servers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
async def coll(servers: Servers, isolation: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    try:
        yield client[f"{isolation}_proxy"]["docs"]
    finally:
        await client.drop_database(f"{isolation}_proxy")
        await client.close()


async def test_version_guards_match_only_the_current_version(coll: Any) -> None:
    await coll.insert_many([{"_id": f"d{i}", "_v": 1, "n": i} for i in range(200)])
    assert (await coll.replace_one({"_id": "d7", "_v": 1}, {"_v": 2, "n": 7})).matched_count == 1
    assert (await coll.replace_one({"_id": "d7", "_v": 1}, {"_v": 3, "n": 7})).matched_count == 0
    assert (await coll.replace_one({"_id": "missing", "_v": 1}, {"_v": 2})).matched_count == 0
    assert (await coll.update_one({"_v": 2, "_id": "d7"}, {"$inc": {"_v": 1}})).matched_count == 1
    doc = await coll.find_one({"_id": "d7"})
    assert doc is not None and doc["_v"] == 3
    stale_or_current = [
        ReplaceOne({"_id": f"d{i}", "_v": 1 if i % 2 else 9}, {"_v": 2}) for i in range(10, 20)
    ]
    assert (await coll.bulk_write(stale_or_current, ordered=False)).matched_count == 5
    # one _id twice in one command: evaluated in order, as MongoDB does
    twice = [
        UpdateOne({"_id": "d30", "_v": 1}, {"$inc": {"_v": 1}}),
        UpdateOne({"_id": "d30", "_v": 2}, {"$inc": {"_v": 1}}),
    ]
    assert (await coll.bulk_write(twice, ordered=True)).matched_count == 2
    assert await coll.count_documents({"_v": 1}) == 200 - 1 - 5 - 1


async def test_lookups_by_id_use_an_index(servers: Servers, coll: Any) -> None:
    """FerretDB queries by ``_ferretdb_sjson->'$._id'``; the proxy's keeper indexes that very expression."""
    data = os.path.join(ROOT, ".devstack", "ferretdb", "data", f"{coll.database.name}.sqlite")
    await coll.insert_many([{"_id": f"d{i}"} for i in range(20)])  # creates the collection's table
    await coll.insert_one({"_id": "d20"})  # a later write indexes it, once its table is visible
    if not os.path.exists(data):
        pytest.skip("the MongoDB server is external: no SQLite file to inspect")
    with contextlib.closing(sqlite3.connect(f"file:{data}?mode=ro", uri=True)) as db:
        [table] = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'docs%'")
        ]
        assert table.replace("_", "").isalnum()  # FerretDB's own table name, quoted below
        plan = db.execute(
            f"EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM \"{table}\" WHERE _ferretdb_sjson->'$._id' = ?",  # noqa: S608
            ('"d3"',),
        ).fetchall()
    assert any("USING INDEX" in row[-1] and "siaga_idpath" in row[-1] for row in plan), plan


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed")
def test_go_unit_tests_of_the_proxy() -> None:
    cache = os.path.join(ROOT, ".cache", "go")
    env = {
        **os.environ,
        "GOMODCACHE": os.path.join(cache, "mod"),
        "GOCACHE": os.path.join(cache, "build"),
        "GOFLAGS": "-mod=readonly",
        "CGO_ENABLED": "0",
    }
    done = subprocess.run(
        ["go", "test", "./..."],
        cwd=os.path.join(ROOT, "deploy", "ferretdb"),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
