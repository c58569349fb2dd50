"""Seed 000 end to end on the real servers: rakor → held with recommendations → fanned-out action items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from siaga_meetings.handlers import sweep_overdue
from siaga_meetings.settings import MeetingsSettings
from siaga_runtime import ManualClock

from ..helpers import problem
from .support import (
    ADMIN,
    OPERATOR_BAWASLU_BANGKALAN,
    OPERATOR_BAWASLU_KEDIRI,
    ORGANISER_BAWASLU_JATIM,
    ORGANISER_KPU_JATIM,
    READER_BAWASLU_JATIM,
    auth,
    distinct,
    meeting_events,
    running,
)

pytestmark = pytest.mark.integration

MEETING: dict[str, Any] = {
    "meeting_id": "mtg-bawaslu-jatim-2020-04-03",
    "title": "Rakoor Bawaslu Jatim dengan seluruh pimpinan Bawaslu kab/kota",
    "organiser": {"institution": "bawaslu", "region": "35"},
    "level": "province",
    "mode": "vidcon",
    "starts_at": "2020-04-03T14:00:00",
    "ends_at": "2020-04-03T17:30:00",
    "agenda": ["Kerja pengawasan", "Pencegahan penyebaran Covid-19"],
    "invited": [{"institution": "bawaslu", "within": "35", "level": 2}],
}
RECOMMENDATIONS = [
    {"number": 1, "text": "Meningkatkan pola hidup sehat dikantor dan dirumah"},
    {"number": 2, "text": "Berkoordinasi aktif dengan KPU Kabupaten/Kota tentang tahapan yang ditunda"},
    {
        "number": 3,
        "text": "Peringatan hari jadi Bawaslu ke 12 pada 9 April 2020",
        "sub_items": [
            {"letter": "a", "text": "Koordinasi dengan jaringan pengawas untuk monitoring ODP"},
            {"letter": "b", "text": "Informasi kepada Kepala Daerah/Ketua Gugus Tugas"},
            {"letter": "c", "text": "Bakti sosial penggalangan dana sukarela"},
            {"letter": "d", "text": "Koordinasi dengan PMI untuk donor darah"},
        ],
    },
]


async def test_seed_000_rakor_end_to_end(meetings_settings: MeetingsSettings) -> None:
    clock = ManualClock(datetime(2020, 4, 2, 3, 0, tzinfo=UTC))
    org = auth(ORGANISER_BAWASLU_JATIM)
    async with running(meetings_settings, clock) as svc:
        c = svc.client
        r = await c.post("/meetings", json=MEETING, headers=org)
        assert r.status_code == 201, r.text
        assert r.json()["starts_at"] == "2020-04-03T14:00:00+07:00"
        assert len(r.json()["invited_parties"]) == 38
        mid = MEETING["meeting_id"]
        # scope: KPU may not organise Bawaslu's rakor; an operator may not organise at all
        assert (
            await c.post("/meetings", json={**MEETING, "meeting_id": "m2"}, headers=auth(ORGANISER_KPU_JATIM))
        ).status_code == 403
        assert (
            await c.put(
                f"/meetings/{mid}/minutes", json={"minutes": "x"}, headers=auth(OPERATOR_BAWASLU_KEDIRI)
            )
        ).status_code == 403
        # bad field → 422 naming it
        r = await c.post("/meetings", json={**MEETING, "meeting_id": "m3", "mode": "telepathy"}, headers=org)
        assert "body.mode" in problem(r, 422)["detail"]
        r = await c.post(
            "/meetings", json={**MEETING, "meeting_id": "m4", "ends_at": "2020-04-03T13:00:00"}, headers=org
        )
        assert problem(r, 422)["errors"][0]["field"] == "body.ends_at"
        assert (await c.post("/meetings", json=MEETING, headers=org)).status_code == 409

        clock.set(datetime(2020, 4, 3, 11, 0, tzinfo=UTC))  # 18:00 WIB, near maghrib
        attendance = [
            {
                "party": {"institution": "bawaslu", "region": "35.26"},
                "status": "present",
                "represented_by": "Ketua",
            },
            {
                "party": {"institution": "bawaslu", "region": "35.71"},
                "status": "late",
                "represented_by": "Anggota",
            },
            {"party": {"institution": "bawaslu", "region": "35.13"}, "status": "absent"},
        ]
        assert (
            await c.put(f"/meetings/{mid}/attendance", json={"entries": attendance}, headers=org)
        ).status_code == 200
        r = await c.put(
            f"/meetings/{mid}/minutes", json={"minutes": "Rakoor mulai 14.00 WIB; sistem piket."}, headers=org
        )
        assert r.status_code == 200
        r = await c.put(
            f"/meetings/{mid}/recommendations", json={"recommendations": RECOMMENDATIONS}, headers=org
        )
        assert r.status_code == 200, r.text
        r = await c.post(f"/meetings/{mid}/held", json={"held_at": "2020-04-03T14:00:00"}, headers=org)
        assert r.status_code == 200 and r.json()["status"] == "held"

        r = await c.post(
            f"/meetings/{mid}/action-items",
            json={"recommendation_ref": "3.z", "due_at": "2020-04-09T17:00:00", "fan_out": True},
            headers=org,
        )
        assert problem(r, 422)["errors"][0]["field"] == "body.recommendation_ref"
        r = await c.post(
            f"/meetings/{mid}/action-items",
            json={"recommendation_ref": "3.a", "due_at": "2020-04-09T17:00:00", "fan_out": True},
            headers=org,
        )
        assert r.status_code == 201, r.text
        items = {i["assignee"]["region"]: i for i in r.json()}
        assert len(items) == 38
        bangkalan = items["35.26"]["action_item_id"]

        r = await c.get(
            "/action-items",
            params={"region": "35.26", "status": "open"},
            headers=auth(OPERATOR_BAWASLU_BANGKALAN),
        )
        assert [i["action_item_id"] for i in r.json()] == [bangkalan]
        assert (
            await c.get("/action-items", params={"region": "35"}, headers=auth(OPERATOR_BAWASLU_BANGKALAN))
        ).status_code == 403
        r = await c.get("/action-items", params={"region": "35"}, headers=auth(READER_BAWASLU_JATIM))
        assert r.status_code == 200 and len(r.json()) == 38
        assert (await c.get(f"/meetings/{mid}", headers=auth(READER_BAWASLU_JATIM))).status_code == 200
        # the list: readable by the organiser's region and by invited parties, not by another province
        r = await c.get("/meetings", headers=auth(READER_BAWASLU_JATIM))
        assert r.status_code == 200 and [m["meeting_id"] for m in r.json()] == [mid]
        r = await c.get("/meetings", headers=auth(OPERATOR_BAWASLU_BANGKALAN))
        assert [m["meeting_id"] for m in r.json()] == [mid]
        assert (await c.get("/meetings", headers=auth("dev:bawaslu:65:reader"))).json() == []
        assert (
            await c.get("/meetings", params={"within": "35"}, headers=auth("dev:bawaslu:65:reader"))
        ).status_code == 403

        # Kota Kediri may not complete Bangkalan's item; Bangkalan completes its own
        r = await c.post(
            f"/action-items/{bangkalan}/complete",
            json={"evidence": "x"},
            headers=auth(OPERATOR_BAWASLU_KEDIRI),
        )
        assert r.status_code == 403
        clock.set(datetime(2020, 4, 8, 3, 0, tzinfo=UTC))
        r = await c.post(
            f"/action-items/{bangkalan}/complete",
            json={"evidence": "Rekap monitoring ODP dari Panwascam se-Bangkalan"},
            headers=auth(OPERATOR_BAWASLU_BANGKALAN),
        )
        assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["late"] is False

        # after the due time: the sweep makes the 37 others overdue, exactly once even when repeated
        clock.set(datetime(2020, 4, 9, 11, 0, tzinfo=UTC))  # 18:00 WIB
        first = await sweep_overdue(svc.stores, clock)
        assert first["action_items_overdue"] == 37
        assert (await sweep_overdue(svc.stores, clock))["action_items_overdue"] == 0
        r = await c.post("/operations/sweep", headers=auth(ADMIN))
        assert r.status_code == 200 and r.json()["action_items_overdue"] == 0
        assert (await c.post("/operations/sweep", headers=org)).status_code == 403
        r = await c.get("/action-items", params={"region": "35", "status": "overdue"}, headers=org)
        assert len(r.json()) == 37

        events = await meeting_events(meetings_settings, svc.stores)
    scheduled = distinct(events, "siaga.meetings.meeting-scheduled")
    held = distinct(events, "siaga.meetings.meeting-held")
    assert list(scheduled) == [mid] and len(held[mid]) == 1
    data = held[mid][0]["data"]
    assert (data["attendance"]["invited"], data["attendance"]["present"], data["attendance"]["late"]) == (
        38,
        1,
        1,
    )
    assert [r["number"] for r in data["recommendations"]] == [1, 2, 3]
    assert [s["letter"] for s in data["recommendations"][2]["sub_items"]] == ["a", "b", "c", "d"]
    assigned = distinct(events, "siaga.meetings.action-item-assigned")
    assert len(assigned) == 38
    assert assigned[bangkalan][0]["data"]["due_at"] == "2020-04-09T17:00:00+07:00"
    completed = distinct(events, "siaga.meetings.action-item-completed")
    assert list(completed) == [bangkalan]
    overdue = distinct(events, "siaga.meetings.action-item-overdue")
    assert len(overdue) == 37 and bangkalan not in overdue
    assert all(len(v) == 1 for v in overdue.values())
    assert overdue[items["35.71"]["action_item_id"]][0]["data"]["detected_at"] == "2020-04-09T18:00:00+07:00"
    # correlation: every event is a CloudEvent from this service
    assert all(e["source"] == "/siaga/meetings" for e in events)
