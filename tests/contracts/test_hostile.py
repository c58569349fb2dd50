"""Hostile records against the running logistics service, on the real servers: each is dead-lettered with
its reason header, the valid records around them are applied, and replays of old event ids are no-ops
(the documented behaviour: a record re-sent, or the same scan re-sent under a new id, changes nothing and
is no dead letter). The runtime's own corpus (tests/runtime/test_dead_letters.py) has hundreds of variants
of each; this set is the one an integrator meets at the service's door."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from siaga_logistics.app import build_app
from siaga_logistics.settings import LogisticsSettings
from siaga_runtime import ManualClock
from siaga_schemas import CONTENT_TYPE, new_event_id

from ..helpers import auth, produce, read_all, read_to_end, serve, wait_until
from .published import STATUS_UPDATES, checkpoint_scan, example, settings_env, shipment_on_its_way

pytestmark = pytest.mark.integration

CT = [("content-type", CONTENT_TYPE.encode())]
STATUS = STATUS_UPDATES


def _hostile(scan: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """Key -> (value, expected dlt.reason)."""

    def variant(change: Callable[[dict[str, Any]], None]) -> bytes:
        doc = copy.deepcopy(scan)
        doc["id"] = new_event_id()
        change(doc)
        return json.dumps(doc).encode()

    def wrong_type(d: dict[str, Any]) -> None:
        d["data"]["status"] = 7
        d["data"]["source_system"] = ["silog"]

    def operator(d: dict[str, Any]) -> None:
        d["data"]["shipment_id"] = {"$ne": None}

    def unknown(d: dict[str, Any]) -> None:
        d["type"] = "siaga.logistics.shipment-teleported"

    def oversized(d: dict[str, Any]) -> None:
        d["data"]["place"] = "x" * 300_000

    def region(d: dict[str, Any]) -> None:
        d["data"]["region"] = "65.01.99"

    return {
        "malformed-json": (b'{"specversion": "1.0", "id": ', "undecodable"),
        "wrong-types": (variant(wrong_type), "schema_violation"),
        "dollar-operator": (variant(operator), "forbidden_key"),
        "unknown-type": (variant(unknown), "unknown_type"),
        "oversized": (variant(oversized), "oversized"),
        "wrong-region": (variant(region), "schema_violation"),
    }


async def test_hostile_records_are_dead_lettered_with_their_reason_and_replays_are_no_ops(
    runtime_env: Callable[[str], dict[str, str]],
) -> None:
    settings = LogisticsSettings(**settings_env(runtime_env, "logistics"), delay_sweep_interval_s=3600)
    # the documented scan, as the checkpoint scans a shipment on its way meets most
    scan = checkpoint_scan(example("logistics", STATUS, "ShipmentStatusReported")["payload"])
    shipment_id = scan["data"]["shipment_id"]
    topic = settings.topic_name(STATUS)
    op = auth("dev:kpu:65.01:operator")
    clock = ManualClock(datetime(2024, 11, 25, 0, 0, tzinfo=UTC))
    async with serve(build_app(settings, clock=clock), "logistics") as (_, c):
        await shipment_on_its_way(c, op, plan_id="plan-hostile-65.01", shipment_id=shipment_id)

        key = shipment_id.encode()
        first = json.dumps(scan).encode()
        await produce(settings.kafka_bootstrap_servers, [(topic, key, first, CT)])

        async def checkpoints() -> list[Any]:
            return list((await c.get(f"/shipments/{shipment_id}", headers=op)).json()["checkpoints"])

        async def one() -> bool:
            return len(await checkpoints()) == 1

        await wait_until(one, timeout=60, what="the first scan applied")

        hostile = _hostile(scan)
        renamed = json.dumps({**scan, "id": new_event_id()}).encode()  # the same scan under a new id
        later = copy.deepcopy(scan)
        later.update(id=new_event_id())
        later["data"].update(observed_at="2024-11-26T15:00:00+08:00", place="Dermaga Tanjung Selor")
        records = [(topic, k.encode(), v, CT) for k, (v, _) in hostile.items()]
        # replays on the shipment's own key (so in order before the later scan): the record re-sent as it
        # was, the same scan under a new id, and the first again
        records += [(topic, key, first, CT), (topic, key, renamed, CT), (topic, key, first, CT)]
        records.append((topic, key, json.dumps(later).encode(), CT))
        await produce(settings.kafka_bootstrap_servers, records)

        async def two() -> bool:
            return len(await checkpoints()) >= 2

        await wait_until(two, timeout=90, what="the later scan applied after the replays")
        assert [cp["place"] for cp in await checkpoints()] == [
            scan["data"]["place"],
            later["data"]["place"],
        ], "a replay changed the shipment"

        letters = await read_all(settings.kafka_bootstrap_servers, topic + ".dlt", len(hostile), timeout=60)
        got = {r.key.decode(): {k: v.decode() for k, v in r.headers} for r in letters}
        assert set(got) == set(hostile), "dead-lettered something else, or missed a hostile record"
        for name, (_, reason) in hostile.items():
            assert got[name]["dlt.reason"] == reason, name
            assert got[name]["dlt.error.message"], name
            assert got[name]["dlt.source.topic"] == topic
        assert {r.key.decode(): r.value for r in letters} == {k: v for k, (v, _) in hostile.items()}
        assert len(await read_to_end(settings.kafka_bootstrap_servers, topic + ".dlt")) == len(hostile)
