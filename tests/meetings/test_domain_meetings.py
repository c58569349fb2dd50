"""Pure domain: rakor, recommendations (seed 000) and action items. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from siaga_meetings.domain import actions as act
from siaga_meetings.domain import meetings as mtg
from siaga_schemas.common import Institution, Party, PartySet
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events.meetings import MeetingLevel, MeetingMode, Recommendation, RecommendationSubItem

NOW = datetime(2020, 4, 3, 7, 0, tzinfo=UTC)  # 14:00 WIB

SEED_000 = [
    Recommendation(number=1, text="Meningkatkan pola hidup sehat dikantor dan dirumah"),
    Recommendation(number=2, text="Berkoordinasi aktif dengan KPU Kabupaten/Kota"),
    Recommendation(
        number=3,
        text="Peringatan hari jadi Bawaslu ke 12 pada 9 April 2020",
        sub_items=[
            RecommendationSubItem(
                letter="a", text="Koordinasi dengan jaringan pengawas untuk monitoring ODP"
            ),
            RecommendationSubItem(letter="b", text="Informasi kepada Kepala Daerah/Ketua Gugus Tugas"),
            RecommendationSubItem(letter="c", text="Bakti sosial penggalangan dana sukarela"),
            RecommendationSubItem(letter="d", text="Koordinasi dengan PMI untuk donor darah"),
        ],
    ),
]


def _request(**kw: object) -> mtg.MeetingRequest:
    base: dict[str, object] = {
        "meeting_id": "mtg-jatim-2020-04-03",
        "title": "Rakoor Bawaslu Jatim via vidcon",
        "organiser": Party(institution=Institution.BAWASLU, region="35"),
        "level": MeetingLevel.PROVINCE,
        "mode": MeetingMode.VIDCON,
        "starts_at": datetime(2020, 4, 3, 14, 0),
        "invited": [PartySet(institution=Institution.BAWASLU, within="35", level=2)],
    }
    base.update(kw)
    return mtg.MeetingRequest.model_validate(base)


def test_invitation_expands_to_every_kab_kota_of_jawa_timur() -> None:
    meeting, event = mtg.schedule_meeting(_request(), limit=2000)
    regions = {p.region for p in meeting.invited_parties}
    assert len(regions) == 38
    assert {"35.26", "35.71", "35.75", "35.13"} <= regions
    assert meeting.starts_at.isoformat() == "2020-04-03T14:00:00+07:00"  # naive = organiser's local time
    assert event.time_zone == "Asia/Jakarta"
    assert len(event.invited_parties) == 38


def test_bad_meeting_input_names_the_field() -> None:
    with pytest.raises(DomainError) as err:
        mtg.schedule_meeting(_request(ends_at=datetime(2020, 4, 3, 13, 0)), limit=2000)
    assert err.value.field == "ends_at"
    with pytest.raises(DomainError) as err:
        mtg.schedule_meeting(
            _request(organiser=Party(institution=Institution.BAWASLU, region="35.26")), limit=2000
        )
    assert err.value.field == "organiser.region"
    with pytest.raises(DomainError) as err:
        mtg.schedule_meeting(_request(), limit=10)
    assert err.value.field.startswith("invited")


def test_held_meeting_summarises_attendance_and_carries_recommendations() -> None:
    meeting, _ = mtg.schedule_meeting(_request(), limit=2000)
    bws = Institution.BAWASLU
    meeting = mtg.record_attendance(
        meeting,
        [
            mtg.AttendanceEntry(
                party=Party(institution=bws, region="35.26"), status=mtg.AttendanceStatus.PRESENT
            ),
            mtg.AttendanceEntry(
                party=Party(institution=bws, region="35.71"),
                status=mtg.AttendanceStatus.LATE,
                represented_by="Anggota",
            ),
        ],
    )
    meeting = mtg.set_recommendations(meeting, list(reversed(SEED_000)))
    assert [r.number for r in meeting.recommendations] == [1, 2, 3]
    assert set(mtg.recommendation_refs(meeting)) == {"1", "2", "3", "3.a", "3.b", "3.c", "3.d"}
    held, event = mtg.hold_meeting(meeting, NOW)
    assert held.status == "held"
    assert (event.attendance.invited, event.attendance.present, event.attendance.late) == (38, 1, 1)
    assert event.attendance.absent == 36
    assert len(event.recommendations[2].sub_items) == 4
    with pytest.raises(DomainError) as err:
        mtg.hold_meeting(held, NOW)
    assert err.value.kind is ErrorKind.CONFLICT


def test_attendance_of_an_uninvited_party_is_refused() -> None:
    meeting, _ = mtg.schedule_meeting(_request(), limit=2000)
    with pytest.raises(DomainError) as err:
        mtg.record_attendance(
            meeting,
            [mtg.AttendanceEntry(party=Party(institution=Institution.KPU, region="35.26"), status="present")],
        )
    assert err.value.field == "entries.0.party"


def test_duplicate_sub_item_letter_is_refused() -> None:
    meeting, _ = mtg.schedule_meeting(_request(), limit=2000)
    rec = Recommendation(
        number=3,
        text="x",
        sub_items=[RecommendationSubItem(letter="a", text="x"), RecommendationSubItem(letter="a", text="y")],
    )
    with pytest.raises(DomainError) as err:
        mtg.set_recommendations(meeting, [rec])
    assert err.value.field == "recommendations.0.sub_items.1.letter"


def _held() -> mtg.Meeting:
    meeting, _ = mtg.schedule_meeting(_request(), limit=2000)
    return mtg.set_recommendations(meeting, SEED_000)


def test_fan_out_assigns_every_invited_party_in_its_own_time_zone() -> None:
    meeting, _ = mtg.schedule_meeting(
        _request(
            invited=[
                PartySet(institution=Institution.BAWASLU, within="35", level=2),
                PartySet(institution=Institution.BAWASLU, within="65.01", level=2),
            ]
        ),
        limit=2000,
    )
    meeting = mtg.set_recommendations(meeting, SEED_000)
    planned = act.plan_action_items(
        meeting,
        recommendation_ref="3.a",
        title=None,
        due_at=datetime(2020, 4, 9, 17, 0),
        assignee=None,
        fan_out=True,
        now=NOW,
    )
    assert len(planned) == 39
    by_region = {item.assignee.region: item for item, _ in planned}
    assert by_region["35.26"].due_at.isoformat() == "2020-04-09T17:00:00+07:00"
    assert by_region["65.01"].due_at.isoformat() == "2020-04-09T17:00:00+08:00"  # Bulungan is WITA
    assert by_region["35.26"].title.startswith("Koordinasi dengan jaringan pengawas")
    assert by_region["35.26"].action_item_id == "act:mtg-jatim-2020-04-03:3.a:bawaslu:35.26"


def test_unknown_recommendation_and_missing_assignee_name_the_field() -> None:
    meeting = _held()
    with pytest.raises(DomainError) as err:
        act.plan_action_items(
            meeting,
            recommendation_ref="3.e",
            title=None,
            due_at=NOW + timedelta(days=1),
            assignee=None,
            fan_out=True,
            now=NOW,
        )
    assert err.value.field == "recommendation_ref"
    with pytest.raises(DomainError) as err:
        act.plan_action_items(
            meeting,
            recommendation_ref="1",
            title=None,
            due_at=NOW + timedelta(days=1),
            assignee=None,
            fan_out=False,
            now=NOW,
        )
    assert err.value.field == "assignee"


def test_action_item_lifecycle_overdue_once_and_late_completion() -> None:
    meeting = _held()
    [(item, assigned)] = act.plan_action_items(
        meeting,
        recommendation_ref="2",
        title="Koordinasi tahapan yang ditunda",
        due_at=datetime(2020, 4, 9, 17, 0),
        assignee=Party(institution=Institution.BAWASLU, region="35.71"),
        fan_out=False,
        now=NOW,
    )
    assert assigned.recommendation_ref == "2"
    assert act.mark_overdue(item, NOW) is None  # not due yet
    after = datetime(2020, 4, 9, 11, 0, tzinfo=UTC)  # 18:00 WIB
    result = act.mark_overdue(item, after)
    assert result is not None
    overdue, event = result
    assert overdue.status is act.ActionStatus.OVERDUE
    assert event.detected_at.utcoffset() == timedelta(hours=7)
    assert act.mark_overdue(overdue, after + timedelta(days=1)) is None  # never twice
    done, completed = act.complete_action_item(overdue, evidence="Laporan monitoring ODP", now=after)
    assert done.status is act.ActionStatus.DONE and completed.late
    with pytest.raises(DomainError) as err:
        act.complete_action_item(done, evidence=None, now=after)
    assert err.value.kind is ErrorKind.CONFLICT
