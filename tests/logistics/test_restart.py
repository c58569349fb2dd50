"""Exactly-once delay events across a restart in the middle of a sweep and several concurrent sweepers."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from siaga_logistics.handlers import get_shipment, sweep_delays
from siaga_logistics.settings import LogisticsSettings
from siaga_runtime import ManualClock
from siaga_schemas.regions import children

from ..helpers import wait_until
from .support import OPERATOR_BULUNGAN, auth, events, of_type, running

pytestmark = pytest.mark.integration

OP = auth(OPERATOR_BULUNGAN)
DESAS = children("65.01.09")[:4]  # Sekatak
PLAN: dict[str, Any] = {
    "plan_id": "plan-restart-65.01",
    "election_id": "pilkada2024",
    "region": "65.01",
    "voting_day": "2024-11-27",
    "contests": ["bupati"],
    "distribution_starts_at": "2024-11-18T08:00:00",
    "tps": [
        {"tps_id": f"tps-{d}-00{i}", "region": d, "dpt": 300 + i, "direct": True, "mode": "river"}
        for d in DESAS
        for i in (1, 2)
    ],
}
CRITICAL = timedelta(hours=48)


async def test_restart_mid_sweep_emits_each_delay_once(logistics_settings: LogisticsSettings) -> None:
    clock = ManualClock(datetime.fromisoformat("2024-11-18T07:00:00+08:00"))
    ids = [f"{PLAN['plan_id']}:{t['tps_id']}" for t in PLAN["tps"]]  # every leg is a shipment
    async with running(logistics_settings, clock) as svc:
        assert (await svc.client.post("/plans", json=PLAN, headers=OP)).status_code == 201
        clock.set(datetime.fromisoformat("2024-11-19T06:00:00+08:00"))  # every ETA (08:00 + 16 h) passed

        handled: list[str] = []
        stuck = asyncio.Event()

        async def stop_after_three(doc_id: str) -> None:
            handled.append(doc_id)
            if len(handled) == 3:
                stuck.set()
                await asyncio.Event().wait()  # the process "dies" here, mid-sweep

        sweep = asyncio.create_task(
            sweep_delays(svc.stores, clock, critical_slack=CRITICAL, after_each=stop_after_three)
        )
        await asyncio.wait_for(stuck.wait(), 60)
    # the app is stopped while the sweep is in the middle of its run
    sweep.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweep
    assert len(handled) == 3

    async with running(logistics_settings, clock) as svc:
        # the restarted replica's own timer sweeps at start; two more replicas sweep concurrently
        results = await asyncio.gather(
            sweep_delays(svc.stores, clock, critical_slack=CRITICAL),
            sweep_delays(svc.stores, clock, critical_slack=CRITICAL),
        )
        assert sum(results) <= len(ids) - 2 * 3  # three chunks of two TPS each were done before

        async def all_marked() -> bool:
            found = [await get_shipment(svc.stores, i) for i in ids]
            return all(s.delay_severity == "warning" for s in found)

        await wait_until(all_marked, timeout=60, what="every shipment marked delayed")
        evs = await events(logistics_settings, svc.stores)
        delayed = Counter(
            (e["data"]["shipment_id"], e["data"]["severity"]) for e in of_type(evs, "shipment-delayed")
        )
        assert delayed == Counter({(i, "warning"): 1 for i in ids})
