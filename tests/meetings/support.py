"""In-process app runner and Kafka readers for the meetings integration tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from siaga_meetings.app import build_app
from siaga_meetings.handlers import Stores
from siaga_meetings.settings import MeetingsSettings
from siaga_runtime import ManualClock
from siaga_schemas.topics import MEETINGS_EVENTS

from .. import helpers
from ..helpers import auth as auth  # re-exported for the tests of this package
from ..helpers import read_to_end, wait_until

ORGANISER_BAWASLU_JATIM = "dev:bawaslu:35:organiser"
ORGANISER_KPU_JATIM = "dev:kpu:35:organiser"
OPERATOR_KPU_KEDIRI = "dev:kpu:35.71:operator"
OPERATOR_KPU_BANGKALAN = "dev:kpu:35.26:operator"
OPERATOR_BAWASLU_BANGKALAN = "dev:bawaslu:35.26:operator"
OPERATOR_BAWASLU_KEDIRI = "dev:bawaslu:35.71:operator"
READER_BAWASLU_JATIM = "dev:bawaslu:35:reader"
READER_DESK_BULUNGAN = "dev:desk_pilkada:65.01:reader"
ADMIN = "dev:kemendagri:national:admin"


Running = helpers.Running[Stores]


@asynccontextmanager
async def running(settings: MeetingsSettings, clock: ManualClock) -> AsyncIterator[Running]:
    """The service in-process: its lifespan (Kafka, FerretDB, relay, consumer) around an ASGI client."""
    async with helpers.serve(build_app(settings, clock=clock), "meetings") as (app, client):
        yield Running(app, client)


async def outbox_drained(stores: Stores) -> bool:
    """Every journaled outbox entry is published (the journal holds only what is not)."""
    journal = stores.meetings.journal
    assert journal is not None
    return await journal.collection.find_one({}, {"_id": 1}) is None


async def wait_drained(stores: Stores) -> None:
    async def drained() -> bool:
        return await outbox_drained(stores)

    await wait_until(drained, timeout=60, what="outbox published")


async def meeting_events(settings: MeetingsSettings, stores: Stores) -> list[dict[str, Any]]:
    """Decoded CloudEvents published so far on the meetings topic (after the outbox is drained)."""
    await wait_drained(stores)
    topic = settings.topic_name(MEETINGS_EVENTS.name)
    return [json.loads(r.value) for r in await read_to_end(settings.kafka_bootstrap_servers, topic)]


def distinct(events: list[dict[str, Any]], event_type: str) -> dict[str, list[dict[str, Any]]]:
    """Events of one type by subject, counting each event id once (the relay is at-least-once)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for e in events:
        if e["type"] == event_type:
            out.setdefault(e["subject"], {})[e["id"]] = e
    return {subject: list(by_id.values()) for subject, by_id in out.items()}
