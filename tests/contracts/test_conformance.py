"""Conformance on the real servers: an outside integrator that has nothing but the published AsyncAPI
documents (the YAML files, their channel addresses and message examples) builds one message per receive
channel of each service, publishes it with a Kafka client that is not the services' own (confluent-kafka,
librdkafka), and the running service applies it (the effect shows in its HTTP API) and dead-letters nothing.

Only the preconditions an agency would also need (a plan and a shipment, a reporting schedule) are made
through the HTTP API, under the ids the examples carry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from siaga_logistics.app import build_app as build_logistics
from siaga_logistics.settings import LogisticsSettings
from siaga_meetings.app import build_app as build_meetings
from siaga_meetings.handlers import sweep_overdue
from siaga_meetings.settings import MeetingsSettings
from siaga_notifications.app import build_app as build_notifications
from siaga_notifications.settings import NotificationsSettings
from siaga_runtime import ManualClock

from ..helpers import auth, serve, wait_until
from .published import (
    assert_nothing_dead_lettered,
    example,
    publish,
    receive_channels,
    record,
    settings_env,
    shipment_on_its_way,
)

pytestmark = pytest.mark.integration

# The message each receive channel gets in this test: one whose effect the service's HTTP API shows.
CHOSEN = {
    ("logistics", "siaga.logistics.status-updates.v1"): "ShipmentStatusReported",
    ("logistics", "siaga.logistics.events.v1"): "ShipmentDelayed",
    ("meetings", "siaga.meetings.report-submissions.v1"): "SubmitReport",
    ("notifications", "siaga.logistics.events.v1"): "ShipmentDelayed",
    ("notifications", "siaga.meetings.events.v1"): "ReportOverdue",
}


def test_the_test_covers_every_receive_channel_of_every_service() -> None:
    published = {
        (service, address): names
        for service in ("meetings", "logistics", "notifications")
        for address, names in receive_channels(service).items()
    }
    assert set(published) == set(CHOSEN)
    for key, name in CHOSEN.items():
        assert name in published[key], key


async def test_logistics_applies_what_its_documents_describe(
    runtime_env: Callable[[str], dict[str, str]],
) -> None:
    settings = LogisticsSettings(**settings_env(runtime_env, "logistics"), delay_sweep_interval_s=3600)
    scan = example("logistics", "siaga.logistics.status-updates.v1", "ShipmentStatusReported")
    delayed = example("logistics", "siaga.logistics.events.v1", "ShipmentDelayed")
    shipment_id = scan["payload"]["data"]["shipment_id"]
    late_id = delayed["payload"]["data"]["shipment_id"]
    op = auth("dev:kpu:65.01:operator")
    clock = ManualClock(datetime(2024, 11, 25, 0, 0, tzinfo=UTC))
    async with serve(build_logistics(settings, clock=clock), "logistics") as (app, c):
        # the delivery scan's proof covers the lines it names: the agency's shipment carries just those
        shipped = [
            {"item": ln["item"], "quantity": ln["shipped"], "unit": "unit"}
            for ln in scan["payload"]["data"]["lines"]
        ]
        await shipment_on_its_way(
            c, op, plan_id="plan-conformance-65.01", shipment_id=shipment_id, lines=shipped
        )

        publish(
            settings.kafka_bootstrap_servers,
            [
                record(settings.topic_name("siaga.logistics.status-updates.v1"), scan),
                record(settings.topic_name("siaga.logistics.events.v1"), delayed),
            ],
        )

        async def applied() -> bool:
            shipment = (await c.get(f"/shipments/{shipment_id}", headers=op)).json()
            # the own-events channel feeds internal projections; GET /shipments/delayed lists a shipment
            # only once its own aggregate turned late, so the delay shows in the projection's store
            listed = await app.state.stores.delayed.get(late_id)
            return shipment.get("status") == "delivered" and bool(listed and listed.get("open"))

        await wait_until(applied, timeout=90, what="the scan and the delay applied")
        shipment = (await c.get(f"/shipments/{shipment_id}", headers=op)).json()
        assert shipment["handover"]["number"] == scan["payload"]["data"]["handover"]["number"]
        await assert_nothing_dead_lettered(settings, list(receive_channels("logistics")))


async def test_meetings_applies_a_report_submission_built_from_its_document(
    runtime_env: Callable[[str], dict[str, str]],
) -> None:
    settings = MeetingsSettings(**settings_env(runtime_env, "meetings"), sweep_interval_s=3600)
    submission = example("meetings", "siaga.meetings.report-submissions.v1", "SubmitReport")
    data = submission["payload"]["data"]
    org = auth("dev:kpu:35:organiser")
    clock = ManualClock(datetime(2020, 4, 7, 1, 0, tzinfo=UTC))  # 08:00 WIB on the period's day
    async with serve(build_meetings(settings, clock=clock), "meetings") as (app, c):
        schedule = {
            "schedule_id": data["schedule_id"],
            "title": "Laporan kab/kota sebelum vidcon Selasa",
            "template_id": "tpl-kpu-covid-2020",
            "owner": {"institution": "kpu", "region": "35"},
            "obligated": {"institution": "kpu", "within": "35", "level": 2},
            "cadence": {"kind": "weekly", "weekdays": [1], "at": "09:00"},
            "starts_on": "2020-03-31",
        }
        r = await c.post("/schedules", json=schedule, headers=org)
        assert r.status_code == 201, r.text
        await sweep_overdue(app.state.stores, clock)  # what the service's timer does: request the period
        topic = settings.topic_name("siaga.meetings.report-submissions.v1")
        publish(settings.kafka_bootstrap_servers, [record(topic, submission)])
        url = f"/schedules/{data['schedule_id']}/reports/{data['region']}/{data['period_id']}"

        async def reported() -> bool:
            r = await c.get(url, headers=org)
            return r.status_code == 200 and bool(r.json()["versions"])

        try:
            await wait_until(reported, timeout=45, what="the submission applied")
        except AssertionError:
            await assert_nothing_dead_lettered(settings, list(receive_channels("meetings")))
            raise
        # a replay of the same id is no new version; an amendment (a new id) is
        amended = json.loads(json.dumps(submission))
        amended["payload"]["id"] = "0192f5c4-5b7e-7c2a-9e0f-0000000000a2"
        publish(
            settings.kafka_bootstrap_servers,
            [record(topic, submission), record(topic, submission), record(topic, amended)],
        )

        async def amended_once() -> bool:
            return len((await c.get(url, headers=org)).json()["versions"]) >= 2

        await wait_until(amended_once, timeout=60, what="the amendment applied")
        versions = (await c.get(url, headers=org)).json()["versions"]
        assert len(versions) == 2, "a replayed submission became a version"
        await assert_nothing_dead_lettered(settings, list(receive_channels("meetings")))


async def test_notifications_raises_alerts_from_events_built_from_its_document(
    runtime_env: Callable[[str], dict[str, str]],
) -> None:
    settings = NotificationsSettings(**settings_env(runtime_env, "notifications"), sweep_interval_s=0.5)
    records = [
        record(settings.topic_name(address), example("notifications", address, name))
        for (service, address), name in CHOSEN.items()
        if service == "notifications"
    ]
    admin = auth("dev:kemendagri:national:admin")
    clock = ManualClock(datetime(2024, 11, 20, 9, 0, tzinfo=UTC))
    async with serve(build_notifications(settings, clock=clock), "notifications") as (_, c):
        publish(settings.kafka_bootstrap_servers, records)
        wanted = {json.loads(value)["type"] for _, _, value, _ in records}

        async def alerted() -> bool:
            alerts = (await c.get("/alerts", headers=admin)).json()
            return wanted <= {a["labels"].get("event_type") for a in alerts}

        await wait_until(alerted, timeout=90, what="an alert for each event")
        await assert_nothing_dead_lettered(settings, list(receive_channels("notifications")))
