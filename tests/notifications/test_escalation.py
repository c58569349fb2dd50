"""Escalation under a controllable clock: with and without acknowledgement, and across a restart with two
replicas racing, on the real Kafka and FerretDB."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import ManualClock

from ..helpers import problem, wait_until
from .support import (
    T0,
    Inbox,
    auth,
    deliveries,
    publish,
    put_contacts,
    running,
    shipment_delayed,
    wait_delivered,
)

pytestmark = pytest.mark.integration

SOURCE = "/siaga/logistics"


async def _raise_one(svc, settings: NotificationsSettings) -> str:  # type: ignore[no-untyped-def]
    await publish(settings, [shipment_delayed(1, "65.01.01")], SOURCE)
    found: list[str] = []

    async def grouped() -> bool:
        found[:] = [d["_id"] async for d in svc.stores.alerts.scan()]
        groups = [g async for g in svc.stores.groups.scan()]
        return len(found) == 1 and len(groups) == 1

    await wait_until(grouped, timeout=60, what="the alert and its group")
    return found[0]


async def test_chain_escalates_until_acknowledged(
    notif_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        fp = await _raise_one(svc, notif_settings)

        clock.advance(timedelta(seconds=31))  # group_wait
        [first] = await wait_delivered(svc, "ct-kpu-6501-log", 1)
        assert first["step"] == 0 and first["status"] == "firing"
        assert await deliveries(svc, contact_id="ct-kpu-65-log") == []

        clock.advance(timedelta(minutes=10))  # no acknowledgement: step 1, the province
        await svc.engine.tick()
        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, "ct-kpu-65-log", 1)
        [bawaslu] = await wait_delivered(svc, "ct-bawaslu-65", 1)
        assert bawaslu["language"] == "en" and "Escalation level 1" in bawaslu["body"]

        # callers who may not act for the alert's region learn nothing about the body: 403, never 422
        for token in ("dev:kpu:35:organiser", "dev:bawaslu:65:reader"):
            for invalid in ({"comment": 5}, {"comment": "x" * 3000}):
                r = await svc.client.post(f"/alerts/{fp}/acknowledge", json=invalid, headers=auth(token))
                assert "errors" not in problem(r, 403)
        other = auth("dev:kpu:35:organiser")
        r = await svc.client.post(
            "/silences", json={"region_prefix": "65.01", "matchers": "keliru"}, headers=other
        )
        assert "errors" not in problem(r, 403)
        r = await svc.client.post("/silences", json={"matchers": []}, headers=other)  # national: not for 35
        assert "errors" not in problem(r, 403)
        r = await svc.client.put(
            "/contacts/ct-x", json={"contact_id": "ct-x", "region": "65.01", "channels": 1}, headers=other
        )
        assert "errors" not in problem(r, 403)
        # the same invalid comment from a caller who may act is a 422 naming the field
        r = await svc.client.post(
            f"/alerts/{fp}/acknowledge", json={"comment": 5}, headers=auth("dev:kpu:65:organiser")
        )
        assert problem(r, 422)["errors"][0]["field"] == "body.comment"

        resp = await svc.client.post(
            f"/alerts/{fp}/acknowledge",
            json={"comment": "Speedboat cadangan dikirim"},
            headers=auth("dev:kpu:65:organiser"),
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "acknowledged"

        clock.advance(timedelta(minutes=30))
        for _ in range(3):
            await svc.engine.tick()
        assert await deliveries(svc, contact_id="ct-national-desk") == []
        alert = await svc.stores.alerts.get(fp)
        assert alert is not None and alert["esc"]["step"] == 1 and alert["esc"]["next_due_at"] is None
        assert [h["action"] for h in alert["history"]] == ["raised", "escalated", "acknowledged"]
        mail = smtp[0]
        assert len(mail.to("logistik@kpu-bulungan.test")) == 1
        assert len(mail.to("logistik@kpu-kaltara.test")) == 1
        assert mail.to("desk@kemendagri.test") == []


async def test_chain_reaches_the_national_desk_without_acknowledgement(
    notif_settings: NotificationsSettings, http_receiver: Any
) -> None:
    clock = ManualClock(T0)
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        fp = await _raise_one(svc, notif_settings)
        for contact in ("ct-kpu-6501-log", "ct-kpu-65-log"):
            clock.advance(timedelta(seconds=31))  # group_wait of this level's group
            await wait_delivered(svc, contact, 1)
            clock.advance(timedelta(minutes=10))  # unacknowledged: the next level is due
            await svc.engine.tick()
        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, "ct-national-desk", 1, channel="email")
        await wait_delivered(svc, "ct-national-desk", 1, channel="webhook")
        await wait_delivered(svc, "ct-national-desk", 1, channel="telegram")
        alert = await svc.stores.alerts.get(fp)
        assert alert is not None and alert["esc"]["step"] == 2 and alert["esc"]["next_due_at"] is None
        # Delivered: the cause clears, the alert resolves, and each level hears it resolved.
        from siaga_schemas.events.logistics import HandoverRecord, PodLine, ShipmentDelivered

        await publish(
            notif_settings,
            [
                ShipmentDelivered(
                    shipment_id="shp-65.01.01-00001",
                    destination_region="65.01.01",
                    delivered_at=T0,
                    lines=[PodLine(item="ballot_box", shipped=5, accepted=5, rejected=0)],
                    handover=HandoverRecord(number="BA-1", handed_over_by="PPK", received_by="PPS", at=T0),
                    was_delayed=True,  # as logistics says of a shipment it raised shipment-delayed for
                )
            ],
            "/siaga/logistics",
        )

        async def resolved() -> bool:
            doc = await svc.stores.alerts.get(fp)
            return doc is not None and doc["status"] == "resolved"

        await wait_until(resolved, timeout=60, what="auto-resolve on delivery")
        clock.advance(timedelta(minutes=5, seconds=1))  # group_interval
        [_, done] = sorted(await wait_delivered(svc, "ct-kpu-6501-log", 2), key=lambda d: d["notify_seq"])
        assert done["status"] == "resolved" and done["title"].startswith("[OK]")
        assert all(w["valid"] for w in http_receiver.webhooks)


async def test_restart_mid_escalation_loses_and_duplicates_nothing(
    notif_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        fp = await _raise_one(svc, notif_settings)
        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, "ct-kpu-6501-log", 1)
        clock.advance(timedelta(minutes=10))
        await svc.engine.tick()  # step 1 decided and joined; its group waits group_wait; then a "crash"
        alert = await svc.stores.alerts.get(fp)
        assert alert is not None and alert["esc"]["step"] == 1
    clock.advance(timedelta(seconds=31))
    # Two replicas come back at once and race over the same timers.
    async with running(notif_settings, clock) as a, running(notif_settings, clock) as b:
        for _ in range(3):
            await asyncio.gather(a.engine.tick(), b.engine.tick())
        await wait_delivered(a, "ct-kpu-65-log", 1)
        await wait_delivered(b, "ct-bawaslu-65", 1)
        clock.advance(timedelta(minutes=10, seconds=31))
        for _ in range(3):
            await asyncio.gather(a.engine.tick(), b.engine.tick())
        clock.advance(timedelta(seconds=31))
        await wait_delivered(a, "ct-national-desk", 1)
        await wait_delivered(a, "ct-national-desk", 1, channel="webhook")
        all_deliveries = await deliveries(a)
        per_contact: dict[tuple[str, str], int] = {}
        for d in all_deliveries:
            per_contact[(d["contact_id"], d["channel"])] = (
                per_contact.get((d["contact_id"], d["channel"]), 0) + 1
            )
        assert per_contact == {
            ("ct-kpu-6501-log", "email"): 1,
            ("agency-systems", "topic"): 1,
            ("ct-kpu-65-log", "email"): 1,
            ("ct-bawaslu-65", "email"): 1,
            ("ct-national-desk", "email"): 1,
            ("ct-national-desk", "webhook"): 1,
            ("ct-national-desk", "telegram"): 1,
        }
        alert = await a.stores.alerts.get(fp)
        assert alert is not None
        assert [h.get("step") for h in alert["history"] if h["action"] == "escalated"] == [1, 2]

        async def mailed() -> bool:
            return len(smtp[0].by_id()) == 4

        await wait_until(mailed, timeout=30, what="four e-mails")
        assert set(smtp[0].by_id().values()) == {1}  # no notification id was mailed twice
