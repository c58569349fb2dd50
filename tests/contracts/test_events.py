"""Every event model: documented fields, a lossless round trip, and agreement with its committed schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from siaga_runtime.examples import example_of
from siaga_schemas import Envelope, EventData, decode_event, registry
from siaga_schemas.export import breaking_changes, event_schema, schema_filename

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "jsonschema"
MODELS = list(registry.models())
REQUIRED_EVENTS = {
    "siaga.meetings.meeting-scheduled",
    "siaga.meetings.meeting-held",
    "siaga.meetings.action-item-assigned",
    "siaga.meetings.action-item-completed",
    "siaga.meetings.action-item-overdue",
    "siaga.meetings.report-requested",
    "siaga.meetings.report-submitted",
    "siaga.meetings.report-overdue",
    "siaga.logistics.shipment-planned",
    "siaga.logistics.shipment-dispatched",
    "siaga.logistics.shipment-checkpoint-passed",
    "siaga.logistics.shipment-delivered",
    "siaga.logistics.shipment-delayed",
    "siaga.logistics.shipment-discrepancy-found",
    "siaga.logistics.region-at-risk",
    "siaga.notifications.alert-raised",
    "siaga.notifications.alert-escalated",
    "siaga.notifications.alert-acknowledged",
    "siaga.notifications.alert-resolved",
    "siaga.notifications.notification-delivered",
    "siaga.notifications.notification-failed",
}


def _ids(model: type[EventData]) -> str:
    return f"{model.event_type}.v{model.schema_version}"


def test_every_required_event_has_a_model() -> None:
    assert registry.types() >= REQUIRED_EVENTS


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_every_field_is_documented(model: type[EventData]) -> None:
    def check(cls: type, path: str) -> None:
        from pydantic import BaseModel

        for name, info in cls.model_fields.items():  # type: ignore[attr-defined]
            assert info.description, f"{path}.{name} has no description"
            ann = info.annotation
            nested = [
                t
                for t in (*getattr(ann, "__args__", ()), ann)
                if isinstance(t, type) and issubclass(t, BaseModel)
            ]
            for inner in nested:
                check(inner, f"{path}.{name}")
            if not nested:  # a nested model's example is built from its own fields' examples
                assert info.examples is not None, f"{path}.{name} has no example"

    check(model, model.__name__)


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_round_trip(model: type[EventData]) -> None:
    payload = example_of(model)
    envelope = Envelope.wrap(payload, source="/siaga/test", correlation_id="corr-1")
    raw = envelope.to_bytes()
    decoded = decode_event(raw, envelope.kafka_headers())
    assert decoded.data == payload
    assert decoded.id == envelope.id
    assert decoded.type == model.event_type
    assert decoded.partitionkey == payload.partition_key() == decoded.subject
    assert decoded.correlationid == "corr-1"
    # The wire form validates against the committed JSON Schema.
    committed = json.loads((SCHEMA_DIR / schema_filename(model)).read_text())
    errors = sorted(Draft202012Validator(committed).iter_errors(json.loads(raw)), key=str)
    assert not errors, errors[0].message


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_committed_schema_matches_code(model: type[EventData]) -> None:
    path = SCHEMA_DIR / schema_filename(model)
    assert path.exists(), f"{path.name} is not committed: run `make docs`"
    committed = json.loads(path.read_text())
    current = event_schema(model)
    assert breaking_changes(committed, current) == [], (
        f"{model.event_type} v{model.schema_version} changed incompatibly; add a new schema version instead"
    )
    assert committed == json.loads(json.dumps(current)), f"{path.name} drifted from the code: run `make docs`"


def test_no_stray_committed_schemas() -> None:
    expected = {schema_filename(m) for m in MODELS}
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == expected
