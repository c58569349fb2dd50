"""The timers' safety net (a scan of every alert and group, every ``full_scan_interval_s``) grows with every
alert ever raised: at the national scale it takes seconds. The due timers are swept between its documents,
so a new alert is delivered while a scan is still going. On the real Kafka and FerretDB, with the scan of
the alerts slowed down to stand for a large collection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import Doc, ManualClock

from ..helpers import wait_until
from .support import T0, deliveries, publish, put_contacts, running, shipment_delayed

pytestmark = pytest.mark.integration

AT_ONCE = """
route:
  receiver: kabkota
  group_by: [alertname, shipment_id]
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: kabkota
    targets: [{institution: kpu, role: logistics, level: kab_kota}]
    channels: [email]
"""
PADDING = 80  # documents of the slowed scan, 0.1 s apart: the scan takes 8 s


async def test_a_new_alert_is_delivered_while_the_safety_net_is_still_scanning(
    notif_settings: NotificationsSettings,
) -> None:
    # the periodic tick runs once at start and then waits an hour: only this test's tick runs the timers
    settings = notif_settings.model_copy(update={"sweep_interval_s": 3600.0})
    clock = ManualClock(T0)
    async with running(settings, clock, AT_ONCE) as svc:
        await put_contacts(svc)
        engine, alerts = svc.engine, svc.stores.alerts
        engine.sweep_every_s = 0.2
        engine.full_scan_interval_s = 0.0  # every tick starts with the safety net
        real_scan = alerts.scan
        padded = 0

        async def slow_scan(keep: Callable[[Doc], bool] | None = None) -> AsyncIterator[Doc]:
            nonlocal padded
            async for doc in real_scan(keep):
                yield doc
            for i in range(PADDING):  # alerts that ask for nothing: a large collection, read slowly
                await asyncio.sleep(0.1)
                padded += 1
                yield {"_id": f"pad-{i}", "status": "firing", "esc": {}, "pending_joins": []}

        alerts.scan = slow_scan  # type: ignore[method-assign]
        await publish(settings, [shipment_delayed(1, "65.01.01")], "/siaga/logistics")

        async def raised() -> bool:
            return len([d async for d in real_scan()]) == 1

        await wait_until(raised, timeout=60, what="the alert")
        clock.advance(timedelta(seconds=settings.timer_bucket_s + 1))  # its group's flush is due
        tick = asyncio.create_task(engine.tick())
        sent: list[dict[str, Any]] = []

        async def delivered() -> bool:
            nonlocal sent
            sent = await deliveries(svc, contact_id="ct-kpu-6501-log", channel="email", state="delivered")
            return bool(sent) or tick.done()

        await wait_until(delivered, timeout=60, what="the e-mail, or the end of the scan")
        assert sent, "the tick ended without delivering the alert"
        assert not tick.done(), "the alert waited for the whole safety-net scan"
        assert padded < PADDING
        await tick
        assert padded == PADDING  # the scan went on to its end
        assert len(await deliveries(svc, contact_id="ct-kpu-6501-log")) == 1  # and sent nothing twice
