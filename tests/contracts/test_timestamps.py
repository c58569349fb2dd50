"""One strict date-time type in every contract (``siaga_schemas.common.Timestamp``): an RFC 3339 string with
its offset. An epoch number (as a number or a string), a date alone or a time without an offset is refused,
named by field: a dead letter with the reason for an event, a 422 over HTTP. Request fields that the API
reads in the region's local time (``LocalTimestamp``) are as strict, except that the offset may be left out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from siaga_runtime.examples import example_json
from siaga_schemas import Envelope, InvalidEvent, decode_event
from siaga_schemas.codec import DeadLetterReason
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.events.meetings import MeetingHeld

from ..helpers import auth, problem
from ..runtime.test_openapi import BUILDERS

NOT_INSTANTS = [1732608000, 1732608000.5, "1732608000", "2024-11-26", "2024-11-26T09:00:00", True, "besok"]


def _record(model: type[Any], field: str, value: Any, *, envelope_time: Any = None) -> bytes:
    data = example_json(model)
    envelope = json.loads(Envelope.wrap(model.model_validate(data), source="/agency/example").to_bytes())
    envelope["data"][field] = value
    if envelope_time is not None:
        envelope["time"] = envelope_time
    return json.dumps(envelope).encode()


@pytest.mark.parametrize("value", NOT_INSTANTS, ids=repr)
def test_an_event_time_that_is_not_an_instant_is_dead_lettered_with_the_field(value: Any) -> None:
    with pytest.raises(InvalidEvent) as refused:
        decode_event(_record(ShipmentStatusReported, "observed_at", value))
    assert refused.value.reason is DeadLetterReason.SCHEMA_VIOLATION
    assert "data.observed_at" in str(refused.value) and "RFC 3339" in str(refused.value)


@pytest.mark.parametrize("value", [1732608000, "2024-11-26"], ids=repr)
def test_the_envelope_time_and_every_service_s_payloads_are_as_strict(value: Any) -> None:
    with pytest.raises(InvalidEvent, match="time"):
        decode_event(_record(ShipmentStatusReported, "place", "Dermaga", envelope_time=value))
    with pytest.raises(InvalidEvent, match=r"data\.held_at"):
        decode_event(_record(MeetingHeld, "held_at", value))


@pytest.mark.parametrize(
    "value", ["2024-11-26T09:00:00+08:00", "2024-11-26T01:00:00Z", "2024-11-26 09:00+08:00"]
)
def test_rfc3339_instants_pass(value: str) -> None:
    envelope = decode_event(_record(ShipmentStatusReported, "observed_at", value))
    assert isinstance(envelope.data, ShipmentStatusReported) and envelope.data.observed_at.tzinfo is not None


PLAN = {
    "plan_id": "plan-pilkada2024-65.01",
    "election_id": "pilkada2024",
    "region": "65.01",
    "voting_day": "2024-11-27",
    "contests": ["gubernur"],
    "ppk": [{"region": "65.01.05", "mode": "land"}],
    "pps": [{"region": "65.01.05.1001", "mode": "land"}],
    "tps": [{"tps_id": "tps-65.01.05.1001-001", "region": "65.01.05.1001", "dpt": 300}],
}


@pytest.mark.parametrize("value", [1732608000, "1732608000", "2024-11-18"], ids=repr)
async def test_a_request_time_that_is_not_a_date_time_is_a_422_naming_it(value: Any) -> None:
    app = BUILDERS["logistics"]()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        r = await client.post(
            "/plans", json={**PLAN, "distribution_starts_at": value}, headers=auth("dev:kpu:65.01:operator")
        )
    body = problem(r, 422)
    [error] = [e for e in body["errors"] if e["field"] == "body.distribution_starts_at"]
    assert error["type"] in {"datetime_type", "datetime_format"} and "RFC 3339" in error["message"]
    assert "body.distribution_starts_at" in body["detail"]
