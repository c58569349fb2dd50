"""Seed 001 end to end on the real servers: twice-weekly reports, late and missing ones, overdue exactly once
with two replicas sweeping concurrently and after a restart; amendments; compliance; rollups; scopes;
inbound submissions and their dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from siaga_meetings.handlers import sweep_overdue
from siaga_meetings.settings import MeetingsSettings
from siaga_runtime import ManualClock
from siaga_schemas import Envelope, dead_letter_topic
from siaga_schemas.events.meetings import SubmitReport
from siaga_schemas.topics import MEETINGS_REPORT_SUBMISSIONS

from ..helpers import problem, produce, read_all, wait_until
from .support import (
    OPERATOR_KPU_BANGKALAN,
    OPERATOR_KPU_KEDIRI,
    ORGANISER_KPU_JATIM,
    READER_BAWASLU_JATIM,
    READER_DESK_BULUNGAN,
    auth,
    distinct,
    meeting_events,
    running,
)

pytestmark = pytest.mark.integration

SCHEDULE = {
    "schedule_id": "sch-kpu-jatim-covid",
    "title": "Laporan kab/kota sebelum vidcon Selasa dan Jumat",
    "template_id": "tpl-kpu-covid-2020",
    "owner": {"institution": "kpu", "region": "35"},
    "obligated": {"institution": "kpu", "within": "35", "level": 2},
    "cadence": {"kind": "weekly", "weekdays": [1, 4], "at": "09:00"},
    "starts_on": "2020-03-31",
}
KEDIRI = {
    "voter_education": "Pemberitaan di media daring dan media sosial; Goes to Campus IAIN Kediri ditunda",
    "working_arrangement": "duty_rota",
    "working_arrangement_note": "Piket sehari masuk sehari WFH bagi staf PNS (SE KPU RI 4/2020)",
    "duty_rota_from": "2020-03-26",
    "duty_rota_to": "2020-03-31",
    "staff_odp": 0,
    "staff_pdp": 0,
    "staff_confirmed": 0,
    "local_odp": 46,
    "local_pdp": 1,
    "local_confirmed": 1,
    "local_figures_as_of": "2020-03-28",
    "local_trend": "up",
}
PERIOD = "2020-03-31"
SCHEDULE_ID = SCHEDULE["schedule_id"]


def _report_url(region: str, period: str = PERIOD) -> str:
    return f"/schedules/{SCHEDULE_ID}/reports/{region}/{period}"


def _submission(
    region: str, values: dict[str, Any], period: str = PERIOD
) -> tuple[str, bytes, bytes, list[Any]]:
    env = Envelope.wrap(
        SubmitReport(
            schedule_id=SCHEDULE_ID,
            region=region,
            period_id=period,
            submitted_by="sim-kpu-jatim",
            values=values,
        ),
        source="/agency/kpu-jatim-sim",
    )
    return ("", env.partitionkey.encode(), env.to_bytes(), env.kafka_headers())


async def test_seed_001_twice_weekly_reports(meetings_settings: MeetingsSettings) -> None:
    clock = ManualClock(datetime(2020, 3, 30, 5, 0, tzinfo=UTC))  # Monday 12:00 WIB
    org, kediri, bangkalan = (
        auth(ORGANISER_KPU_JATIM),
        auth(OPERATOR_KPU_KEDIRI),
        auth(OPERATOR_KPU_BANGKALAN),
    )
    async with running(meetings_settings, clock) as a:
        c = a.client
        r = await c.post("/schedules", json=SCHEDULE, headers=org)
        assert r.status_code == 201, r.text
        assert len(r.json()["regions"]) == 38
        bad = {**SCHEDULE, "schedule_id": "s2", "cadence": {"kind": "weekly", "weekdays": [9], "at": "09:00"}}
        r = await c.post("/schedules", json=bad, headers=org)
        assert "body.cadence" in problem(r, 422)["detail"]
        r = await c.post(
            "/schedules", json={**SCHEDULE, "schedule_id": "s3", "template_id": "nope"}, headers=org
        )
        assert r.status_code == 404 or problem(r, 422)["errors"][0]["field"] == "body.template_id"
        assert (
            await c.post("/schedules", json={**SCHEDULE, "schedule_id": "s4"}, headers=kediri)
        ).status_code == 403

        # before the period opens nothing is requested; Tuesday 08:00 WIB every kab/kota is asked
        assert (await sweep_overdue(a.stores, clock))["report_events"] == 0
        clock.set(datetime(2020, 3, 31, 1, 0, tzinfo=UTC))
        assert (await sweep_overdue(a.stores, clock))["report_events"] == 38

        # Kota Kediri reports on time (08:30); Bangkalan at 09:30, late
        clock.set(datetime(2020, 3, 31, 1, 30, tzinfo=UTC))
        r = await c.put(_report_url("35.71"), json={"values": KEDIRI}, headers=kediri)
        assert r.status_code == 200, r.text
        assert r.json()["versions"][0]["late"] is False and r.json()["status"] == "submitted"
        # the list of schedules names the periods due so far, newest first, and the next one (at 08:30 the
        # first period, due 09:00, is still the next one)
        r = await c.get("/schedules", headers=kediri)
        assert r.status_code == 200, r.text
        listed = r.json()
        assert [s["schedule_id"] for s in listed] == [SCHEDULE_ID]
        assert listed[0]["recent_periods"] == [] and listed[0]["next_period"] == "2020-03-31"
        assert (await c.get("/schedules", headers=auth("dev:kpu:65:reader"))).json() == []
        # scope: Kediri may not report for Bangkalan; a reader may not report at all
        assert (await c.put(_report_url("35.26"), json={"values": KEDIRI}, headers=kediri)).status_code == 403
        assert (
            await c.put(_report_url("35.71"), json={"values": KEDIRI}, headers=auth(READER_BAWASLU_JATIM))
        ).status_code == 403
        # bad field → 422 naming it
        r = await c.put(
            _report_url("35.71"), json={"values": {**KEDIRI, "local_odp": "empat puluh"}}, headers=kediri
        )
        assert problem(r, 422)["errors"][0]["field"] == "body.values.local_odp"
        r = await c.put(_report_url("35.71", "2020-04-01"), json={"values": KEDIRI}, headers=kediri)
        assert problem(r, 422)["errors"][0]["field"] == "path.period_id"
        r = await c.put(
            "/schedules/sch-kpu-jatim-covid/reports/35.99/2020-03-31", json={"values": KEDIRI}, headers=kediri
        )
        assert "path.region" in problem(r, 422)["detail"]

        clock.set(datetime(2020, 3, 31, 2, 30, tzinfo=UTC))
        r = await c.put(_report_url("35.26"), json={"values": {**KEDIRI, "local_odp": 12}}, headers=bangkalan)
        assert r.status_code == 200 and r.json()["status"] == "late"

        # amendment: version 2, version 1 kept
        r = await c.put(_report_url("35.71"), json={"values": {**KEDIRI, "local_odp": 47}}, headers=kediri)
        assert [v["version"] for v in r.json()["versions"]] == [1, 2]
        assert (
            r.json()["versions"][0]["values"][
                next(i for i, e in enumerate(r.json()["versions"][0]["values"]) if e["key"] == "local_odp")
            ]["value"]
            == 46
        )

        # inbound submissions from another agency's system: a valid one and an invalid one
        submissions_topic = meetings_settings.topic_name(MEETINGS_REPORT_SUBMISSIONS.name)
        good = _submission("35.75", {**KEDIRI, "local_odp": 5})
        invalid = _submission("35.13", {**KEDIRI, "staff_odp": "tiga orang"})
        await produce(
            meetings_settings.kafka_bootstrap_servers,
            [(submissions_topic, *good[1:]), (submissions_topic, *invalid[1:])],
        )

        async def pasuruan_reported() -> bool:
            r = await c.get(_report_url("35.75"), headers=org)
            return r.status_code == 200 and bool(r.json()["versions"])

        await wait_until(pasuruan_reported, timeout=60, what="inbound submission applied")
        letters = await read_all(
            meetings_settings.kafka_bootstrap_servers, dead_letter_topic(submissions_topic), 1, timeout=60
        )
        headers = {k: v.decode() for k, v in letters[0].headers}
        assert headers["dlt.reason"] == "schema_violation"
        assert "values.staff_odp" in headers["dlt.error.message"]
        assert letters[0].value == invalid[2]

        # 10:00 WIB: two replicas sweep concurrently; the others (not 35.71, 35.26, 35.75) are overdue once
        clock.set(datetime(2020, 3, 31, 3, 0, tzinfo=UTC))
        async with running(meetings_settings, clock) as b:
            results = await asyncio.gather(
                sweep_overdue(a.stores, clock), sweep_overdue(b.stores, clock), sweep_overdue(a.stores, clock)
            )
        # at most 35 overdue + the next period (Friday) requested for all 38; b's start-up sweep may do some
        # of it (the exact once-only count is checked on Kafka below)
        assert sum(r["report_events"] for r in results) <= 35 + 38

        r = await c.get(
            f"/schedules/{SCHEDULE_ID}/compliance",
            params={"period_id": PERIOD},
            headers=auth(READER_BAWASLU_JATIM),
        )
        assert r.status_code == 200
        states = {row["region"]: row["state"] for row in r.json()}
        assert (states["35.71"], states["35.26"], states["35.75"], states["35.13"]) == (
            "reported",
            "late",
            "late",
            "overdue",
        )
        assert sum(1 for s in states.values() if s == "overdue") == 35
        r = await c.get(f"/schedules/{SCHEDULE_ID}/compliance", params={"period_id": PERIOD}, headers=kediri)
        assert [row["region"] for row in r.json()] == ["35.71"]  # an operator sees only its own region
        assert (
            await c.get(
                f"/schedules/{SCHEDULE_ID}/compliance",
                params={"period_id": PERIOD},
                headers=auth(READER_DESK_BULUNGAN),
            )
        ).status_code == 403

        r = await c.get(
            f"/schedules/{SCHEDULE_ID}/rollup",
            params={"period_id": PERIOD},
            headers=auth(READER_BAWASLU_JATIM),
        )
        assert r.status_code == 200, r.text
        rollup = r.json()
        assert rollup["provinces"][0]["province"] == "35"
        assert rollup["totals"]["local_odp"] == 47 + 12 + 5  # latest versions
        assert rollup["regions_reported"] == 3

    # restart: a fresh instance sweeping again publishes nothing new
    clock.set(datetime(2020, 3, 31, 4, 0, tzinfo=UTC))
    async with running(meetings_settings, clock) as again:
        assert (await sweep_overdue(again.stores, clock))["report_events"] == 0
        # a report that never came in is still accepted late, without a second overdue
        r = await again.client.put(
            _report_url("35.13"), json={"values": KEDIRI}, headers=auth("dev:kpu:35.13:operator")
        )
        assert r.status_code == 200 and r.json()["status"] == "late"
        assert (await sweep_overdue(again.stores, clock))["report_events"] == 0
        events = await meeting_events(meetings_settings, again.stores)

    requested = distinct(events, "siaga.meetings.report-requested")
    overdue = distinct(events, "siaga.meetings.report-overdue")
    submitted = distinct(events, "siaga.meetings.report-submitted")
    first_period = [s for s in requested if s.endswith(PERIOD)]
    assert len(first_period) == 38 and len(requested) == 76
    assert all(len(v) == 1 for v in requested.values())
    assert len(overdue) == 35 and all(len(v) == 1 for v in overdue.values())
    assert f"{SCHEDULE_ID}:35.71:{PERIOD}" not in overdue
    kediri_versions = sorted(e["data"]["version"] for e in submitted[f"{SCHEDULE_ID}:35.71:{PERIOD}"])
    assert kediri_versions == [1, 2]
    assert submitted[f"{SCHEDULE_ID}:35.26:{PERIOD}"][0]["data"]["late"] is True
    one = overdue[f"{SCHEDULE_ID}:35.13:{PERIOD}"][0]["data"]
    assert one["due_at"] == "2020-03-31T09:00:00+07:00" and one["detected_at"] == "2020-03-31T10:00:00+07:00"
    assert json.loads(json.dumps(submitted[f"{SCHEDULE_ID}:35.71:{PERIOD}"][0]["data"]["values"]))[
        "local_odp"
    ] in (46, 47)
