"""An in-memory stand-in for the few collection operations the store and relay use (unit tests only)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError


class _Result:
    def __init__(self, matched: int, deleted: int = 0) -> None:
        self.matched_count = matched
        self.modified_count = matched
        self.deleted_count = deleted


def _matches(doc: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    for key, cond in flt.items():
        value = doc.get(key)
        if isinstance(cond, dict) and "$in" in cond:
            if value not in cond["$in"]:
                return False
        elif isinstance(cond, dict) and "$lt" in cond:
            if value is None or not value < cond["$lt"]:
                return False
        elif value != cond:
            return False
    return True


class _Cursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self._docs = docs

    def limit(self, n: int) -> _Cursor:
        return _Cursor(self._docs[:n])

    def __aiter__(self) -> _Cursor:
        self._it = iter(self._docs)
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


class FakeCollection:
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.docs: dict[str, dict[str, Any]] = {}
        self.before_write: list[Any] = []  # hooks run before a write, to simulate a concurrent writer
        self.queries = 0  # find() calls: what FerretDB answers by reading the whole collection
        self.point_reads = 0

    def find(self, flt: dict[str, Any], projection: dict[str, Any] | None = None) -> _Cursor:
        self.queries += 1
        return _Cursor([copy.deepcopy(d) for d in self.docs.values() if _matches(d, flt)])

    async def find_one(
        self, flt: dict[str, Any], projection: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        self.point_reads += 1
        if set(flt) == {"_id"}:
            found = self.docs.get(flt["_id"])
            return copy.deepcopy(found) if found is not None else None
        for d in self.docs.values():
            if _matches(d, flt):
                return copy.deepcopy(d)
        return None

    def _run_hooks(self) -> None:
        hooks, self.before_write = self.before_write, []
        for hook in hooks:
            hook(self)

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self._run_hooks()
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate _id", 11000)
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def replace_one(self, flt: dict[str, Any], doc: dict[str, Any]) -> _Result:
        self._run_hooks()
        current = self.docs.get(flt["_id"])
        if current is None or not _matches(current, flt):
            return _Result(0)
        self.docs[flt["_id"]] = copy.deepcopy({**doc, "_id": flt["_id"]})
        return _Result(1)

    async def update_one(self, flt: Mapping[str, Any], update: Any) -> _Result:
        current = self.docs.get(flt["_id"])
        if current is None or not _matches(current, flt):
            return _Result(0)
        for k, v in update.get("$set", {}).items():
            current[k] = copy.deepcopy(v)
        for k, v in update.get("$inc", {}).items():
            current[k] = current.get(k, 0) + v
        return _Result(1)

    async def delete_many(self, flt: dict[str, Any]) -> _Result:
        gone = [k for k, d in self.docs.items() if _matches(d, flt)]
        for k in gone:
            del self.docs[k]
        return _Result(0, len(gone))

    async def bulk_write(self, ops: list[Any], ordered: bool = True) -> _Result:
        self._run_hooks()
        errors = []
        matched = 0
        for i, op in enumerate(ops):
            if isinstance(op, InsertOne):
                doc = op._doc
                if doc["_id"] in self.docs:
                    errors.append({"index": i, "code": 11000, "errmsg": "duplicate"})
                    continue
                self.docs[doc["_id"]] = copy.deepcopy(doc)
            elif isinstance(op, ReplaceOne):
                flt, doc = op._filter, op._doc
                current = self.docs.get(flt["_id"])
                if current is not None and _matches(current, flt):
                    self.docs[flt["_id"]] = copy.deepcopy({**doc, "_id": flt["_id"]})
                    matched += 1
            elif isinstance(op, UpdateOne):
                matched += (await self.update_one(op._filter, op._doc)).matched_count
            elif isinstance(op, DeleteOne):
                self.docs.pop(op._filter["_id"], None)
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nMatched": matched})
        return _Result(matched)
