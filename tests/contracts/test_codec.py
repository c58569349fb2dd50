"""Decoding failures carry a precise reason (they become dead-letter reasons)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from siaga_schemas import DeadLetterReason, Envelope, InvalidEvent, decode_event
from siaga_schemas.events.logistics import ShipmentStatusReported


def _valid() -> dict[str, Any]:
    env = Envelope.wrap(
        ShipmentStatusReported(
            shipment_id="shp-1", status="delivered", observed_at=datetime.now(UTC), source_system="silog"
        ),
        source="/test",
    )
    out: dict[str, Any] = json.loads(env.to_bytes())
    return out


def _reason(value: bytes, headers: list[tuple[str, bytes]] | None = None) -> DeadLetterReason:
    with pytest.raises(InvalidEvent) as err:
        decode_event(value, headers)
    return err.value.reason


def test_valid_event_decodes() -> None:
    env = decode_event(json.dumps(_valid()).encode())
    assert isinstance(env.data, ShipmentStatusReported)


def test_reasons() -> None:
    assert _reason(b"\xff\xfe") is DeadLetterReason.UNDECODABLE
    assert _reason(b"[1,2]") is DeadLetterReason.UNDECODABLE
    assert _reason(b"x" * (300 * 1024)) is DeadLetterReason.OVERSIZED
    assert _reason(json.dumps(_valid()).encode(), [("content-type", b"text/plain")]) is (
        DeadLetterReason.WRONG_CONTENT_TYPE
    )
    injected = _valid()
    injected["data"]["shipment_id"] = {"$gt": ""}
    assert _reason(json.dumps(injected).encode()) is DeadLetterReason.FORBIDDEN_KEY
    dotted = _valid()
    dotted["data"]["a.b"] = 1
    assert _reason(json.dumps(dotted).encode()) is DeadLetterReason.FORBIDDEN_KEY
    unknown = _valid()
    unknown["type"] = "siaga.nothing.happened"
    assert _reason(json.dumps(unknown).encode()) is DeadLetterReason.UNKNOWN_TYPE
    future = _valid()
    future["schemaversion"] = 9
    assert _reason(json.dumps(future).encode()) is DeadLetterReason.UNSUPPORTED_VERSION
    wrong = _valid()
    wrong["data"]["observed_at"] = "yesterday"
    assert _reason(json.dumps(wrong).encode()) is DeadLetterReason.SCHEMA_VIOLATION


def test_added_optional_fields_are_accepted_by_consumers() -> None:
    newer = _valid()
    newer["data"]["vehicle"] = "speedboat"
    newer["newattribute"] = "x"
    env = decode_event(json.dumps(newer).encode())
    assert isinstance(env.data, ShipmentStatusReported)
    assert env.data.shipment_id == "shp-1"
