"""In-process app runner, Kafka readers and builders for the logistics integration tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from siaga_logistics.app import build_app
from siaga_logistics.handlers import Stores
from siaga_logistics.settings import LogisticsSettings
from siaga_runtime import ManualClock
from siaga_schemas.topics import LOGISTICS_EVENTS

from .. import helpers
from ..helpers import auth as auth  # re-exported for the tests of this package
from ..helpers import read_to_end, wait_until

OPERATOR_BULUNGAN = "dev:kpu:65.01:operator"
OPERATOR_PPK_TANJUNG_SELOR = "dev:ppk:65.01.05:operator"
OPERATOR_OTHER_KAB = "dev:kpu:65.02:operator"
READER_BAWASLU_KALTARA = "dev:bawaslu:65:reader"
READER_DESK_BULUNGAN = "dev:desk_pilkada:65.01:reader"


Running = helpers.Running[Stores]


@asynccontextmanager
async def running(settings: LogisticsSettings, clock: ManualClock) -> AsyncIterator[Running]:
    """The service in-process: its lifespan (Kafka, FerretDB, relay, consumer) around an ASGI client."""
    async with helpers.serve(build_app(settings, clock=clock), "logistics") as (app, client):
        yield Running(app, client)


async def wait_drained(stores: Stores) -> None:
    """Until every journaled outbox entry is published (the journal holds only what is not)."""
    journal = stores.plans.journal
    assert journal is not None

    async def drained() -> bool:
        return await journal.collection.find_one({}, {"_id": 1}) is None

    await wait_until(drained, timeout=60, what="outbox published")


async def events(settings: LogisticsSettings, stores: Stores) -> list[dict[str, Any]]:
    """Distinct CloudEvents on the logistics topic (by id: the relay is at-least-once)."""
    await wait_drained(stores)
    topic = settings.topic_name(LOGISTICS_EVENTS.name)
    by_id = {}
    for r in await read_to_end(settings.kafka_bootstrap_servers, topic):
        e = json.loads(r.value)
        by_id[e["id"]] = e
    return list(by_id.values())


def of_type(evs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in evs if e["type"] == f"siaga.logistics.{name}"]


def full_pod(lines: list[dict[str, Any]], **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything shipped and accepted; ``changes`` maps 'item/variant' to overrides of that line."""
    out = []
    for ln in lines:
        pod = {
            "item": ln["item"],
            "variant": ln.get("variant"),
            "shipped": ln["quantity"],
            "accepted": ln["quantity"],
            "rejected": 0,
            "rejection_reasons": {},
        }
        pod.update(changes.get(f"{ln['item']}/{ln.get('variant') or ''}", {}))
        out.append(pod)
    return out


def handover(number: str, at: str) -> dict[str, Any]:
    return {
        "number": number,
        "handed_over_by": "Petugas gudang KPU Bulungan",
        "received_by": "Ketua penerima",
        "at": at if ("+" in at or at.endswith("Z")) else at + "+08:00",  # Bulungan: WITA
        "photo_ref": f"photo/{number}.jpg",
    }
