"""How legs and TPS rows are kept inside a shipments document: each one as a JSON string.

FerretDB and the store's cache encode and decode a whole document on every write and every read, and a
desa chunk holds up to seventeen legs and sixteen TPS rows, about forty nested values each, while a scan
concerns one leg (and a delivery one TPS row). Kept as sub-documents, those values were most of what a
scan cost at the national scale: the chunk's BSON decoding and encoding (a third of logistics' CPU in the
profile of the 1.0 run, ``bench/results/national-1.0-partial.md``), a cost that followed the document's
size rather than the scan. A JSON string costs BSON one copy, so a document's encoding is cheap whatever
it holds, and only the leg or the row an event concerns is decoded (``leg``, ``tps_row``) and encoded
again (``pack``).

Documents written before this layout hold their legs and rows as sub-documents: both read functions
take either form, and the next write of a leg or row stores it in the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pydantic_core

__all__ = ["Stored", "leg", "pack", "tps_row"]

# What a document holds per leg or TPS row: a JSON string, or (written before) a sub-document.
Stored = str | Mapping[str, Any]

_PLAN_TIMES = ("planned_dispatch_at", "planned_arrival_at", "deadline_at", "legal_deadline_at")
_SHIP_TIMES = (
    "eta",
    "status_at",
    "dispatched_at",
    "arrived_at",
    "delivered_at",
    "closed_at",
    "cancelled_at",
    "delayed_at",
)
_ROW_TIMES = ("planned_at", "ready_at")


def pack(value: Mapping[str, Any]) -> str:
    """A leg (``{shipment_id, plan, ship}``) or a TPS row as stored: compact JSON, datetimes in ISO 8601."""
    return pydantic_core.to_json(value).decode()


def _times(part: dict[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        value = part.get(key)
        if isinstance(value, str):
            part[key] = datetime.fromisoformat(value)


def leg(stored: Stored) -> dict[str, Any]:
    """A leg as a dict: its plan's and shipment's top-level times as aware datetimes (the times nested in
    checkpoints and reroutes stay strings, which the ``Shipment`` model reads)."""
    if not isinstance(stored, str):
        return dict(stored)
    out: dict[str, Any] = pydantic_core.from_json(stored)
    _times(out["plan"], _PLAN_TIMES)
    _times(out["ship"], _SHIP_TIMES)
    return out


def tps_row(stored: Stored) -> dict[str, Any]:
    """A TPS row as a dict, its times as aware datetimes."""
    if not isinstance(stored, str):
        return dict(stored)
    out: dict[str, Any] = pydantic_core.from_json(stored)
    _times(out, _ROW_TIMES)
    return out
