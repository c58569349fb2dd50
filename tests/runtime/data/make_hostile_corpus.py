"""Regenerate hostile_corpus.jsonl: records that must all be dead-lettered with the given reason.

Run: ``uv run python tests/runtime/data/make_hostile_corpus.py``. The output is committed test data; each line
is ``{"case", "reason", "key", "value_b64" (null for a tombstone), "headers": [[name, value_b64], ...]}``.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

CT = ["content-type", "application/cloudevents+json"]


def _valid(i: int) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"0192f5c4-5b7e-7cc2-9a6e-{i:012d}",
        "source": "/agency/silog",
        "type": "siaga.logistics.shipment-status-reported",
        "time": "2024-11-25T08:00:00+08:00",
        "subject": f"shp-{i}",
        "datacontenttype": "application/json",
        "schemaversion": 1,
        "partitionkey": f"shp-{i}",
        "data": {
            "shipment_id": f"shp-{i}",
            "status": "checkpoint",
            "observed_at": "2024-11-25T08:00:00+08:00",
            "place": "Dermaga Tanjung Selor",
            "region": "65.01.01",
            "source_system": "silog",
        },
    }


def _rec(
    case: str, reason: str, value: bytes | None, headers: list[list[str]] | None = None
) -> dict[str, Any]:
    return {
        "case": case,
        "reason": reason,
        "key": f"hostile-{case}",
        "value_b64": None if value is None else base64.b64encode(value).decode(),
        "headers": [
            [k, base64.b64encode(v.encode()).decode()] for k, v in (headers if headers is not None else [CT])
        ],
    }


def _j(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def build() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = 0

    def nxt() -> int:
        nonlocal n
        n += 1
        return n

    # Bytes that are not UTF-8 JSON, and JSON that is not an object.
    for i, raw in enumerate(
        [
            b"",
            b"{",
            b'{"type":',
            b"\xff\xfe\x00",
            b"not json",
            b"{'single': 'quotes'}",
            b"\x00" * 16,
            b'{"a":1}{"b":2}',
            b"NaN",
            b"[1,2",
            "€uro".encode("utf-16"),
        ]
    ):
        out.append(_rec(f"invalid-json-{i}", "undecodable", raw))
    for i, raw in enumerate([b"[]", b"[1,2,3]", b"42", b'"a string"', b"null", b"true"]):
        out.append(_rec(f"not-an-object-{i}", "undecodable", raw))
    out.append(_rec("tombstone", "undecodable", None))
    # Missing fields: every required envelope attribute and every required data field.
    for field in ["id", "source", "time", "partitionkey", "data"]:
        for variant in range(3):
            doc = _valid(nxt())
            del doc[field]
            out.append(_rec(f"missing-{field}-{variant}", "schema_violation", _j(doc)))
    doc = _valid(nxt())
    del doc["type"]
    out.append(_rec("missing-type", "schema_violation", _j(doc)))
    for field in ["shipment_id", "status", "observed_at", "source_system"]:
        for variant in range(3):
            doc = _valid(nxt())
            del doc["data"][field]
            out.append(_rec(f"missing-data-{field}-{variant}", "schema_violation", _j(doc)))
    # Wrong types.
    wrong: list[tuple[str, Any]] = [
        ("shipment_id", 123),
        ("shipment_id", ["a"]),
        ("shipment_id", True),
        ("status", 7),
        ("status", "lost"),
        ("status", None),
        ("observed_at", "yesterday"),
        ("observed_at", False),
        ("observed_at", "2024-11-25T08:00:00"),
        ("place", 12),
        ("place", "x" * 500),
        ("lot_id", {"a": 1}),
        ("source_system", None),
        ("source_system", []),
        ("region", 35),
    ]
    for field, value in wrong:
        for variant in range(3):
            doc = _valid(nxt())
            doc["data"][field] = value
            out.append(
                _rec(f"wrong-type-{field}-{json.dumps(value)[:12]}-{variant}", "schema_violation", _j(doc))
            )
    for field, value in [
        ("time", "soon"),
        ("schemaversion", "1"),
        ("schemaversion", 1.5),
        ("id", ""),
        ("id", "has spaces in it"),
        ("specversion", "0.3"),
        ("partitionkey", ""),
        ("data", "text"),
    ]:
        doc = _valid(nxt())
        doc[field] = value
        out.append(_rec(f"wrong-envelope-{field}-{json.dumps(value)[:10]}", "schema_violation", _j(doc)))
    # Unknown type, future version.
    for t in ["siaga.logistics.shipment-teleported", "siaga.unknown.thing", "com.example.other", "", "SIAGA"]:
        doc = _valid(nxt())
        doc["type"] = t
        out.append(_rec(f"unknown-type-{t or 'empty'}", "unknown_type", _j(doc)))
    for v in [2, 3, 99, 1000]:
        doc = _valid(nxt())
        doc["schemaversion"] = v
        out.append(_rec(f"future-version-{v}", "unsupported_version", _j(doc)))
    # Oversized.
    for size in [270_000, 300_000]:
        doc = _valid(nxt())
        doc["data"]["place"] = "x" * size
        out.append(_rec(f"oversized-{size}", "oversized", _j(doc)))
    # Operator injection and $/dotted keys, at every depth.
    injections: list[Any] = [
        {"$gt": ""},
        {"$ne": None},
        {"$where": "sleep(1000)"},
        {"$regex": ".*"},
        {"$in": ["a", "b"]},
        {"$exists": True},
    ]
    for field in ["shipment_id", "status", "place", "lot_id", "source_system", "region", "observed_at"]:
        for inj in injections:
            doc = _valid(nxt())
            doc["data"][field] = copy.deepcopy(inj)
            out.append(_rec(f"injection-{field}-{next(iter(inj))}", "forbidden_key", _j(doc)))
    for path in [
        ("$set",),
        ("a.b",),
        ("data", "$inc"),
        ("data", "x.y"),
        ("data", "nested", "$gt"),
        ("data", "nested", "k.v"),
        ("$id",),
        ("data", "$"),
    ]:
        for variant in range(2):
            doc = _valid(nxt())
            target = doc
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = variant
            out.append(_rec(f"key-{'/'.join(path)}-{variant}", "forbidden_key", _j(doc)))
    # Invalid region codes.
    for code in ["35.99", "99", "65.01.99", "abc", "35.26.01.9999", "00", "65.1"]:
        for variant in range(3):
            doc = _valid(nxt())
            doc["data"]["region"] = code
            out.append(_rec(f"region-{code}-{variant}", "schema_violation", _j(doc)))
    # Wrong content type.
    for ct in [
        "text/plain",
        "application/json",
        "application/avro",
        "application/xml",
        "application/cloudevents+xml",
    ]:
        for variant in range(2):
            headers = [["content-type", ct], ["ce_type", "siaga.logistics.shipment-status-reported"]][
                : variant + 1
            ]
            out.append(_rec(f"content-type-{ct}-{variant}", "wrong_content_type", _j(_valid(nxt())), headers))
    for dct in ["application/xml", "text/plain", "application/avro"]:
        doc = _valid(nxt())
        doc["datacontenttype"] = dct
        out.append(_rec(f"datacontenttype-{dct}", "wrong_content_type", _j(doc)))
    return out


def main() -> None:
    records = build()
    path = Path(__file__).with_name("hostile_corpus.jsonl")
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    print(f"{len(records)} records → {path}")


if __name__ == "__main__":
    main()
