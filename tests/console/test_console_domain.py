"""The console's pure parts: view-models, the message catalogue, who may do what, the session cookie."""

from __future__ import annotations

import time

from siaga_console.domain.alerts import group_alerts, readable
from siaga_console.domain.i18n import MESSAGES, pick_language, translator
from siaga_console.domain.places import local_time, region_name
from siaga_console.domain.rakor import items_by_owner, party_name
from siaga_console.domain.readiness import drill_rows, province_tiles, risk
from siaga_console.domain.reports import compliance_groups
from siaga_console.domain.viewer import Viewer
from siaga_console.session import Session, SessionCodec


def viewer(region: str | None, *roles: str) -> Viewer:
    return Viewer("someone", "kpu", region, frozenset(roles))


def test_regions_are_named_and_times_are_local() -> None:
    assert region_name("35.71") == "Kota Kediri" and region_name(None) == "Nasional"
    assert local_time("2024-11-18T01:00:00+00:00", "65.01") == "18-11-2024 09:00 WITA"
    assert local_time("2024-11-18T01:00:00+00:00", "91") == "18-11-2024 10:00 WIT"
    assert local_time(None, "35") == "–"


def test_regions_at_risk_come_first() -> None:
    subs = [
        {
            "region": "35.71",
            "tps_total": 10,
            "tps_ready": 10,
            "readiness": 1.0,
            "planned": 0.5,
            "behind_plan": False,
        },
        {
            "region": "35.26",
            "tps_total": 10,
            "tps_ready": 1,
            "readiness": 0.1,
            "planned": 0.6,
            "behind_plan": True,
        },
        {
            "region": "35.13",
            "tps_total": 10,
            "tps_ready": 5,
            "readiness": 0.5,
            "planned": 0.55,
            "behind_plan": True,
        },
        {
            "region": "35.01",
            "tps_total": 0,
            "tps_ready": 0,
            "readiness": 0.0,
            "planned": 0.0,
            "behind_plan": False,
        },
    ]
    rows = drill_rows(subs)
    assert [(r.name, r.risk) for r in rows] == [
        ("Kabupaten Bangkalan", "behind"),
        ("Kabupaten Probolinggo", "near"),
        ("Kota Kediri", "ok"),
        ("Kabupaten Pacitan", "none"),
    ]
    assert risk(None) == "none"


def test_the_tile_map_has_every_province_once() -> None:
    tiles = province_tiles(
        [{"region": "65", "tps_total": 5, "readiness": 0.2, "planned": 0.4, "behind_plan": True}]
    )
    assert len(tiles) == 38 and len({(t.x, t.y) for t in tiles}) == 38
    kaltara = next(t for t in tiles if t.region == "65")
    assert kaltara.risk == "behind" and kaltara.label == "Kaltara" and kaltara.name == "Kalimantan Utara"
    assert {t.risk for t in tiles if t.region != "65"} == {"none"}


def test_compliance_never_reported_first_in_the_reporters_time() -> None:
    rows = [
        {
            "region": "35.71",
            "state": "reported",
            "versions": 1,
            "first_submitted_at": "2024-11-18T01:30:00+00:00",
        },
        {"region": "35.26", "state": "overdue", "versions": 0, "due_at": "2024-11-18T02:00:00+00:00"},
        {
            "region": "35.13",
            "state": "late",
            "versions": 2,
            "first_submitted_at": "2024-11-18T03:00:00+00:00",
        },
    ]
    groups = compliance_groups(rows)
    assert [g.state for g in groups] == ["overdue", "late", "reported"]
    assert groups[0].rows[0].due == "18-11-2024 09:00 WIB"
    assert groups[1].rows[0].versions == 2


def test_action_items_owners_with_overdue_first() -> None:
    def item(region: str, status: str, due: str) -> dict[str, object]:
        return {
            "action_item_id": f"{region}-{due}",
            "meeting_id": "mtg-1",
            "recommendation_ref": "3.a",
            "title": "Monitoring",
            "assignee": {"institution": "bawaslu", "region": region},
            "due_at": due,
            "status": status,
        }

    owners = items_by_owner(
        [
            item("35.26", "open", "2024-11-25T10:00:00+07:00"),
            item("35.71", "open", "2024-11-25T10:00:00+07:00"),
            item("35.71", "overdue", "2024-11-18T09:00:00+07:00"),
        ],
        {"mtg-1": "Rakor Bawaslu Jatim"},
    )
    assert [o.owner for o in owners] == ["Bawaslu Kota Kediri", "Bawaslu Kabupaten Bangkalan"]
    assert [i.status for i in owners[0].items] == ["overdue", "open"]
    assert owners[0].items[0].meeting == "Rakor Bawaslu Jatim"
    assert party_name({"institution": "desk_pilkada", "region": "35"}) == "Desk Pilkada Jawa Timur"


def test_actions_are_offered_only_where_the_api_allows_them() -> None:
    assert viewer("35.71", "operator").may_respond("35.71.01")
    assert not viewer("35.71", "operator").may_respond("35.26")
    assert not viewer("35.71", "operator").may_respond(None)  # a national alert: national accounts only
    assert not viewer("35.71", "reader").may_respond("35.71")
    assert viewer("35", "organiser", "reader").may_respond("35.26")
    assert viewer(None, "admin").may_respond(None)
    assert viewer("35.71", "reader").read_only and not viewer("35", "organiser").read_only


def test_alerts_grouped_and_readable() -> None:
    alert = {
        "fingerprint": "ab" * 8,
        "alert_id": "al-1",
        "alertname": "shipment-delayed",
        "severity": "warning",
        "status": "firing",
        "region": "65.01.07",
        "labels": {"alertname": "shipment-delayed", "kab_kota": "65.01"},
        "summary": {"id": "Pengiriman plan-pilkada2024-65.01:ppk-65.01.07 ke Peso terlambat"},
        "esc": {"step": 1, "policy": {"steps": [{}, {}, {}]}, "next_due_at": None},
        "primary_route": {"receiver": "kpu-kabkota-logistics", "group_by": ["alertname", "kab_kota"]},
        "history": [{"at": "2024-11-18T01:00:00+00:00", "action": "acknowledged", "by": "kpu-65-organiser"}],
    }
    deliveries = [
        {"alert_ids": ["al-1"], "channel": "email", "receiver": "x", "step": 0, "state": "delivered"}
    ]
    [group] = group_alerts([alert], deliveries, viewer("65", "organiser"))
    assert group.labels == "Pengiriman terlambat"
    [card] = group.alerts
    assert card.group == "Kabupaten Bulungan" and card.step == 2 and card.steps == 3 and card.may_respond
    assert card.summary == "Pengiriman PPK Peso ke Peso terlambat" and len(card.deliveries) == 1
    assert card.history[0].by == "kpu-65-organiser"
    assert (
        readable("Laporan sch-x periode 2024-11-18", {"sch-x": "Laporan Senin"})
        == "Laporan «Laporan Senin» periode 2024-11-18"
    )


def test_messages_exist_in_both_languages_and_indonesian_is_the_default() -> None:
    assert all(set(m) == {"id", "en"} for m in MESSAGES.values())
    assert (
        pick_language(None, None) == "id"
        and pick_language("en", "id") == "en"
        and pick_language("fr", None) == "id"
    )
    assert translator("en")("nav.alerts") == "Alerts" and translator("id")("al.action.someday") == "someday"


def test_the_session_cookie_is_encrypted_tamper_proof_and_expires() -> None:
    codec = SessionCodec("secret", max_age_s=60)
    session = Session.new("dev:kpu:35.71:operator")
    cookie = codec.dump(session)
    assert "dev:kpu" not in cookie and codec.load(cookie) == session
    assert codec.load(cookie[:-4] + "AAAA") is None and codec.load("garbage") is None
    assert SessionCodec("other", max_age_s=60).load(cookie) is None
    assert session.csrf_ok(session.csrf) and not session.csrf_ok("x") and not session.csrf_ok(None)
    issued = int(time.time())
    assert codec.load(cookie, now=issued + 59) == session
    assert codec.load(cookie, now=issued + 120) is None  # past max_age_s: signed out


def test_every_template_compiles() -> None:
    from siaga_console.api.common import TEMPLATES

    names = TEMPLATES.env.list_templates()
    assert {"page.html", "signin.html", "_readiness.html", "_alerts.html"} <= set(names)
    for name in names:
        TEMPLATES.env.get_template(name)


def test_short_shipments_with_their_time_left_to_h1() -> None:
    from siaga_console.domain.readiness import short_rows

    alert = {
        "status": "firing",
        "labels": {"shipment_id": "p:tps-1", "category": "damaged", "item": "ballot_box"},
    }
    shipment = {
        "origin": {"kind": "pps", "region": "65.01.05.1001", "name": "PPS Tanjung Selor Hulu"},
        "destination": {"kind": "tps", "region": "65.01.05.1001", "name": "TPS 001"},
        "transport_mode": "land",
        "delivered_at": "2024-11-18T01:30:00+00:00",
        "legal_deadline_at": "2024-11-26T15:59:59+00:00",
    }
    [row] = short_rows([alert], {"p:tps-1": shipment}, "2024-11-18T03:59:59+00:00")
    assert row.title == "PPS Tanjung Selor Hulu → TPS 001" and row.leg == "PPS → TPS"
    assert row.severity == "damaged" and row.item == "ballot_box" and row.slack_hours == 204.0
    assert row.eta == "18-11-2024 09:30 WITA"
    assert short_rows([alert], {}, None) == []  # a shipment the viewer may not read is left out
