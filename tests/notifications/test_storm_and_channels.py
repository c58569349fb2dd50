"""A storm collapses into grouped notifications; channels deliver independently with retries; Alertmanager
webhooks and the API's scopes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import ManualClock
from siaga_schemas.regions import children

from ..helpers import wait_until
from .support import (
    T0,
    HttpReceiver,
    Inbox,
    auth,
    deliveries,
    plain_text,
    publish,
    put_contacts,
    running,
    shipment_delayed,
    wait_delivered,
)

pytestmark = pytest.mark.integration


async def test_storm_of_1000_delays_in_one_kab_kota_is_one_notification(
    notif_settings: NotificationsSettings, smtp: tuple[Inbox, int]
) -> None:
    clock = ManualClock(T0)
    kecamatan = children("65.01")
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        storm = [shipment_delayed(i, kecamatan[i % len(kecamatan)]) for i in range(1000)]
        await publish(notif_settings, storm + storm[:50], "/siaga/logistics")  # redelivered duplicates too

        async def all_grouped() -> bool:
            groups = [g async for g in svc.stores.groups.scan()]
            return len(groups) == 1 and len(groups[0]["members"]) == 1000

        await wait_until(all_grouped, timeout=120, what="1000 alerts in one group")
        assert len([d async for d in svc.stores.alerts.scan()]) == 1000

        clock.advance(timedelta(seconds=31))
        [mail] = await wait_delivered(svc, "ct-kpu-6501-log", 1)
        [topic] = await wait_delivered(svc, "agency-systems", 1, channel="topic")
        assert mail["firing_count"] == 1000 and topic["firing_count"] == 1000
        assert (
            mail["title"].startswith("[KRITIS] 1000 pengiriman terlambat")
            and "BULUNGAN" in mail["title"].upper()
        )
        assert len(await deliveries(svc)) == 2
        resp = await svc.client.get("/deliveries", headers=auth("dev:bawaslu:65:reader"))
        assert resp.status_code == 200 and len(resp.json()) == 2

        async def one_mail() -> bool:
            return len(smtp[0].messages) == 1

        await wait_until(one_mail, timeout=30, what="the storm's e-mail")
        assert "dan 980 lainnya" in plain_text(smtp[0].messages[0])


async def test_failing_webhook_is_retried_without_holding_up_email_and_telegram(
    notif_settings: NotificationsSettings, smtp: tuple[Inbox, int], http_receiver: HttpReceiver
) -> None:
    http_receiver.fail_first = 2
    clock = ManualClock(T0)
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        am: dict[str, Any] = {
            "version": "4",
            "status": "firing",
            "receiver": "siaga",
            "groupKey": '{}:{alertname="KafkaDown"}',
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "KafkaDown", "severity": "critical", "instance": "kafka-1"},
                    "annotations": {"summary": "Kafka broker kafka-1 tidak menjawab"},
                    "startsAt": "2024-11-20T00:59:00Z",
                    "fingerprint": "0123456789abcdef",
                }
            ],
        }
        assert (await svc.client.post("/alertmanager/webhook", json=am)).status_code == 401
        denied = await svc.client.post("/alertmanager/webhook", json=am, headers=auth("dev:kpu:65:organiser"))
        assert denied.status_code == 403
        resp = await svc.client.post("/alertmanager/webhook", json=am, headers=auth())
        assert resp.status_code == 200, resp.text
        fp = resp.json()["alerts"][0]["fingerprint"]

        clock.advance(timedelta(seconds=31))
        await wait_delivered(svc, "ct-national-desk", 1, channel="email")
        await wait_delivered(svc, "ct-national-desk", 1, channel="telegram")
        [hook] = await deliveries(svc, channel="webhook")
        assert hook["state"] == "pending" and hook["audit"][0]["error"] == "HTTP 503"  # retried later

        async def webhook_done() -> bool:
            clock.advance(timedelta(seconds=30))  # past the backoff
            docs = await deliveries(svc, channel="webhook", state="delivered")
            return len(docs) == 1

        await wait_until(webhook_done, timeout=60, what="the webhook delivered after retries")
        [hook] = await deliveries(svc, channel="webhook")
        assert hook["attempts"] == 3 and [a["outcome"] for a in hook["audit"]] == [
            "error",
            "error",
            "delivered",
        ]
        assert [w["valid"] for w in http_receiver.webhooks] == [True, True, True]
        assert {w["id"] for w in http_receiver.webhooks} == {hook["notification_id"]}
        assert http_receiver.telegram[0]["chat_id"] == "-1001"
        assert (
            "KafkaDown" in http_receiver.webhooks[-1]["payload"]["title"]
            or http_receiver.webhooks[-1]["payload"]["firing_count"] == 1
        )
        [mail] = smtp[0].to("desk@kemendagri.test")
        assert "Kafka broker kafka-1 tidak menjawab" in plain_text(mail)
        metrics = (await svc.client.get("/metrics")).text
        assert 'siaga_notifications_delivery_attempts_total{channel="webhook",outcome="retry"} 2.0' in metrics
        assert (
            'siaga_notifications_delivery_attempts_total{channel="webhook",outcome="delivered"} 1.0'
            in metrics
        )
        assert 'siaga_notifications_delivery_latency_seconds_count{channel="email"} 1.0' in metrics

        # Alertmanager resolves it; the lifecycle is visible through the API.
        am["status"] = "resolved"
        am["alerts"][0].update(status="resolved", endsAt="2024-11-20T01:10:00Z")
        assert (await svc.client.post("/alertmanager/webhook", json=am, headers=auth())).status_code == 200
        alert = (await svc.client.get(f"/alerts/{fp}", headers=auth())).json()
        assert alert["status"] == "resolved" and alert["resolve_reason"].startswith("cause cleared")
        listed = await svc.client.get("/alerts", params={"status": "resolved"}, headers=auth())
        assert [a["fingerprint"] for a in listed.json()] == [fp]
        regional = await svc.client.get("/alerts", headers=auth("dev:kpu:65:reader"))
        assert regional.json() == []  # a national alert is not a regional reader's


async def test_silence_and_inhibition_mute_shipment_delays(notif_settings: NotificationsSettings) -> None:
    from siaga_schemas.events.logistics import RegionAtRisk

    clock = ManualClock(T0)
    async with running(notif_settings, clock) as svc:
        await put_contacts(svc)
        resp = await svc.client.post(
            "/silences",
            headers=auth("dev:kpu:65:organiser"),
            json={
                "matchers": [{"name": "alertname", "value": "shipment-delayed"}],
                "region_prefix": "65.02",
                "duration_s": 3600,
                "comment": "Sudah ditangani",
            },
        )
        assert resp.status_code == 201, resp.text
        await publish(
            notif_settings,
            [
                RegionAtRisk(
                    region="65.01", as_of=T0, tps_total=412, tps_ready=120, readiness=0.29, planned=0.6
                ),
                shipment_delayed(1, "65.01.01"),
                shipment_delayed(2, "65.02.01"),
                shipment_delayed(3, "65.03.01"),
            ],
            "/siaga/logistics",
        )

        async def raised() -> bool:
            return len([d async for d in svc.stores.alerts.scan()]) == 4

        await wait_until(raised, timeout=60, what="four alerts")

        async def grouped() -> bool:
            return len([d async for d in svc.stores.groups.scan()]) == 4

        await wait_until(grouped, timeout=60, what="four groups")
        clock.advance(timedelta(seconds=31))
        for _ in range(2):
            await svc.engine.tick()
        sent = [d for d in await deliveries(svc) if d["channel"] == "topic"]
        # 65.01 is inhibited by region-at-risk, 65.02 silenced; only 65.03's delay is notified.
        assert sorted(d["region"] for d in sent) == ["65.03.01"]
        expire = await svc.client.post(
            f"/silences/{resp.json()['silence_id']}/expire", headers=auth("dev:kpu:65:organiser")
        )
        assert expire.status_code == 200 and expire.json()["expired_at"] is not None
        assert (await svc.client.get("/silences", params={"active": True}, headers=auth())).json() == []
