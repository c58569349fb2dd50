"""Our FerretDB front (deploy/ferretdb): version guards keep MongoDB's meaning when the proxy resolves them,
and lookups by _id use an index. The Go unit tests of the wire rewriting run here too, so CI runs them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, ReplaceOne, UpdateMany, UpdateOne

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


async def test_guards_see_the_earlier_statements_of_their_command(coll: Any) -> None:
    """The proxy reads versions before a command runs: a guard after a statement that may have changed its
    document is left to FerretDB, so it still sees that change, as on MongoDB."""
    await coll.insert_many([{"_id": f"d{i}", "_v": 1, "k": i % 2} for i in range(10)])
    oid = ObjectId()
    await coll.insert_one({"_id": oid, "_v": 4})
    ops = [
        UpdateOne({"_id": "d0", "_v": 1}, {"$set": {"x": 1}}),  # resolved by the proxy: matches
        UpdateMany({"k": 1}, {"$inc": {"_v": 1}}),  # d1, d3, ... now at _v 2
        UpdateOne({"_id": "d1", "_v": 1}, {"$set": {"x": 1}}),  # stale now: must not match
        UpdateOne({"_id": "d3", "_v": 2}, {"$set": {"x": 1}}),  # current now: must match
        UpdateOne({"_id": oid, "_v": 4}, {"$inc": {"_v": 1}}),
    ]
    res = await coll.bulk_write(ops, ordered=True)
    assert res.matched_count == 1 + 5 + 0 + 1 + 1
    assert (await coll.update_one({"_id": oid, "_v": 4}, {"$inc": {"_v": 1}})).matched_count == 0
    assert (await coll.update_one({"_id": oid, "_v": 5.0}, {"$inc": {"_v": 1}})).modified_count == 1
    assert sorted([d["_id"] async for d in coll.find({"x": 1})]) == ["d0", "d3"]


async def test_concurrent_guarded_increments_lose_nothing(servers: Servers, isolation: str) -> None:
    """8 writers read the counter and write it back under a version guard, 15 times each: every guarded
    write that matched is in the final count, and no other."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url, maxPoolSize=16)
    coll = client[f"{isolation}_cas"]["counters"]
    try:
        await coll.insert_many([{"_id": f"other{i}", "_v": 1} for i in range(100)])
        await coll.insert_one({"_id": "ctr", "_v": 1, "n": 0})

        async def writer(use_update: bool) -> int:
            won = 0
            for _ in range(15):
                doc = await coll.find_one({"_id": "ctr"})
                assert doc is not None
                guard = {"_id": "ctr", "_v": doc["_v"]}
                if use_update:
                    res = await coll.update_one(guard, {"$inc": {"_v": 1, "n": 1}})
                else:
                    res = await coll.replace_one(guard, {"_v": doc["_v"] + 1, "n": doc["n"] + 1})
                won += res.matched_count
            return won

        wins = await asyncio.gather(*(writer(i % 2 == 0) for i in range(8)))
        final = await coll.find_one({"_id": "ctr"})
        assert final is not None
        assert sum(wins) > 0
        assert final["n"] == sum(wins) == final["_v"] - 1
    finally:
        await client.drop_database(f"{isolation}_cas")
        await client.close()


async def test_id_filters_push_down_to_the_id_path_index(coll: Any) -> None:
    """FerretDB's explain shows the SQLite plan of a find by _id: it must search the keeper's index."""
    await coll.insert_many([{"_id": f"d{i}"} for i in range(20)])
    plan: dict[str, Any] = {}
    for _ in range(50):  # the keeper indexes a new collection after its first write or at a sweep
        # EXPLAIN shows the plan of the schema a connection last loaded: a real statement first reloads it.
        await coll.find_one({"_id": "d3"})
        plan = await coll.database.command("explain", {"find": coll.name, "filter": {"_id": "d3"}})
        if "filterPushdown" not in plan:
            pytest.skip("not FerretDB: no SQLite plan to inspect")
        if "siaga_idpath" in str(plan.get("queryPlanner")):
            break
        await asyncio.sleep(0.1)
    assert plan["filterPushdown"] is True
    assert any("USING INDEX" in line and "siaga_idpath" in line for line in plan["queryPlanner"]["Plan"]), (
        plan
    )


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
