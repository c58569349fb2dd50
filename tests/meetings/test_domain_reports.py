"""Pure domain: templates, schedules and periods, obligations, compliance and rollups (seeds 001, 003, 004)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from siaga_meetings.domain.builtin import DESK_PILKADA_TEMPLATE, KPU_COVID_TEMPLATE
from siaga_meetings.domain.compliance import (
    ComplianceState,
    compare_totals,
    compliance_rows,
    totals_by_province,
)
from siaga_meetings.domain.obligations import (
    ObligationStatus,
    new_obligation,
    request_or_mark_overdue,
    submit_report,
)
from siaga_meetings.domain.schedules import (
    Cadence,
    ReportSchedule,
    period_for,
    periods_due_between,
    previous_period_id,
)
from siaga_meetings.domain.templates import ItemType, ReportTemplate, TemplateItem, validate_values
from siaga_schemas.common import Institution, Party, PartySet
from siaga_schemas.errors import DomainError
from siaga_schemas.events.meetings import ReportOverdue, ReportRequested

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")

KEDIRI_REPORT = {
    "voter_education": "Pemberitaan di media daring dan media sosial; Goes to Campus ditunda",
    "working_arrangement": "duty_rota",
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


def _schedule(**kw: object) -> ReportSchedule:
    base: dict[str, object] = {
        "schedule_id": "sch-kpu-jatim-covid",
        "title": "Laporan sebelum vidcon Selasa dan Jumat",
        "template_id": KPU_COVID_TEMPLATE.template_id,
        "owner": Party(institution=Institution.KPU, region="35"),
        "obligated": PartySet(institution=Institution.KPU, within="35", level=2),
        "regions": ["35.71", "35.26", "35.13"],
        "cadence": Cadence(kind="weekly", weekdays=[1, 4], at=time(9, 0)),
        "starts_on": date(2020, 3, 31),
        "created_at": datetime(2020, 3, 30, tzinfo=UTC),
    }
    base.update(kw)
    return ReportSchedule.model_validate(base)


def test_builtin_templates_count_people_never_name_them() -> None:
    for template in (KPU_COVID_TEMPLATE, DESK_PILKADA_TEMPLATE):
        for item in template.items:
            assert "name" not in item.key
    health = [i for i in KPU_COVID_TEMPLATE.items if i.key.startswith(("staff_", "family_"))]
    assert health and all(i.type is ItemType.INT for i in health)
    keys = {i.key for i in DESK_PILKADA_TEMPLATE.items}
    assert {"nphd_signed", "asn_seconded_ppk", "ktp_17_issued", "asn_neutrality_circular"} <= keys


def test_kediri_report_validates_and_bad_values_name_the_field() -> None:
    entries = validate_values(KPU_COVID_TEMPLATE.items, KEDIRI_REPORT)
    assert {e.key: e.value for e in entries}["local_odp"] == 46
    cases: list[tuple[dict[str, Any], str]] = [
        ({"local_odp": "banyak"}, "values.local_odp"),
        ({"local_odp": -1}, "values.local_odp"),
        ({"staff_odp": True}, "values.staff_odp"),
        ({"local_trend": "sideways"}, "values.local_trend"),
        ({"working_arrangement": "party"}, "values.working_arrangement"),
        ({"duty_rota_from": "26 Maret"}, "values.duty_rota_from"),
        ({"staff_names": "Budi"}, "values.staff_names"),
    ]
    for change, field in cases:
        with pytest.raises(DomainError) as err:
            validate_values(KPU_COVID_TEMPLATE.items, {**KEDIRI_REPORT, **change})
        assert err.value.field == field
    missing = dict(KEDIRI_REPORT)
    del missing["local_confirmed"]
    with pytest.raises(DomainError) as err:
        validate_values(KPU_COVID_TEMPLATE.items, missing)
    assert err.value.field == "values.local_confirmed"


def test_template_rejects_duplicate_keys_and_choiceless_choice() -> None:
    with pytest.raises(ValueError, match="twice"):
        ReportTemplate(
            template_id="t",
            title="t",
            institution=Institution.KPU,
            items=[
                TemplateItem(key="a", label="a", type=ItemType.INT),
                TemplateItem(key="a", label="b", type=ItemType.INT),
            ],
        )
    with pytest.raises(ValueError, match="choices"):
        TemplateItem(key="a", label="a", type=ItemType.CHOICE)


def test_tuesday_and_friday_periods_open_at_the_previous_due_time() -> None:
    s = _schedule()
    start = datetime(2020, 3, 30, tzinfo=WIB)
    periods = periods_due_between(s, WIB, start, start + timedelta(days=14))
    assert [p.period_id for p in periods] == [
        "2020-03-31",
        "2020-04-03",
        "2020-04-07",
        "2020-04-10",
    ]
    first, second = periods[0], periods[1]
    assert first.opens_at == datetime(2020, 3, 31, 0, 0, tzinfo=WIB)
    assert first.due_at == datetime(2020, 3, 31, 9, 0, tzinfo=WIB)
    assert second.opens_at == first.due_at
    assert previous_period_id(s, "2020-04-07") == "2020-04-03"
    assert previous_period_id(s, "2020-03-31") is None
    with pytest.raises(DomainError) as err:
        period_for(s, "2020-04-01", WIB)  # a Wednesday
    assert err.value.field == "period_id"


def test_daily_desk_pilkada_deadline_is_local_to_bulungan() -> None:
    s = _schedule(
        schedule_id="sch-desk-bulungan",
        template_id=DESK_PILKADA_TEMPLATE.template_id,
        owner=Party(institution=Institution.DESK_PILKADA, region="65.01"),
        obligated=PartySet(institution=Institution.DESK_PILKADA, within="65.01", level=2),
        regions=["65.01"],
        cadence=Cadence(kind="daily", at=time(10, 0)),
        starts_on=date(2024, 12, 10),
    )
    p = period_for(s, "2024-12-11", WITA)
    assert p.due_at.isoformat() == "2024-12-11T10:00:00+08:00"
    assert p.due_at == datetime(2024, 12, 11, 2, 0, tzinfo=UTC)


def test_request_then_overdue_exactly_once_and_late_submission() -> None:
    s = _schedule()
    period = period_for(s, "2020-03-31", WIB)
    fresh = new_obligation(s, KPU_COVID_TEMPLATE, "35.13", period)
    assert request_or_mark_overdue(None, fresh, datetime(2020, 3, 30, 12, 0, tzinfo=WIB)) is None  # not open
    requested = request_or_mark_overdue(None, fresh, datetime(2020, 3, 31, 8, 0, tzinfo=WIB))
    assert requested is not None
    ob, events = requested
    assert [type(e) for e in events] == [ReportRequested]
    assert request_or_mark_overdue(ob, fresh, datetime(2020, 3, 31, 8, 30, tzinfo=WIB)) is None
    overdue = request_or_mark_overdue(ob, fresh, datetime(2020, 3, 31, 9, 1, tzinfo=WIB))
    assert overdue is not None
    ob, events = overdue
    assert [type(e) for e in events] == [ReportOverdue] and ob.status is ObligationStatus.OVERDUE
    assert request_or_mark_overdue(ob, fresh, datetime(2020, 4, 1, tzinfo=WIB)) is None
    late, event = submit_report(
        ob,
        KEDIRI_REPORT,
        submitted_by="op",
        submission_id="sub-1",
        channel="http",
        now=datetime(2020, 3, 31, 10, tzinfo=WIB),
    )
    assert event.late and late.status is ObligationStatus.LATE and len(late.versions) == 1
    assert late.overdue_at is not None  # the miss stays on record
    # a service that was down past the due time still requests and marks overdue, in one step
    _, events2 = request_or_mark_overdue(None, fresh, datetime(2020, 3, 31, 12, tzinfo=WIB)) or (None, [])
    assert [type(e) for e in events2] == [ReportRequested, ReportOverdue]


def test_amendment_is_a_new_version() -> None:
    s = _schedule()
    fresh = new_obligation(s, KPU_COVID_TEMPLATE, "35.71", period_for(s, "2020-03-31", WIB))
    v1, e1 = submit_report(
        fresh,
        KEDIRI_REPORT,
        submitted_by="op",
        submission_id="sub-1",
        channel="http",
        now=datetime(2020, 3, 31, 8, tzinfo=WIB),
    )
    v2, e2 = submit_report(
        v1,
        {**KEDIRI_REPORT, "local_odp": 47},
        submitted_by="op",
        submission_id="sub-2",
        channel="http",
        now=datetime(2020, 3, 31, 8, 30, tzinfo=WIB),
    )
    assert (e1.version, e2.version) == (1, 2)
    assert v2.status is ObligationStatus.SUBMITTED
    assert [dict((x.key, x.value) for x in v.values)["local_odp"] for v in v2.versions] == [46, 47]


def test_compliance_rows() -> None:
    s = _schedule()
    period = period_for(s, "2020-03-31", WIB)
    now = datetime(2020, 3, 31, 10, tzinfo=WIB)
    on_time, _ = submit_report(
        new_obligation(s, KPU_COVID_TEMPLATE, "35.71", period),
        KEDIRI_REPORT,
        submitted_by="op",
        submission_id="s1",
        channel="http",
        now=datetime(2020, 3, 31, 8, tzinfo=WIB),
    )
    late, _ = submit_report(
        new_obligation(s, KPU_COVID_TEMPLATE, "35.26", period),
        KEDIRI_REPORT,
        submitted_by="op",
        submission_id="s2",
        channel="http",
        now=datetime(2020, 3, 31, 9, 30, tzinfo=WIB),
    )
    never = new_obligation(s, KPU_COVID_TEMPLATE, "35.13", period)
    rows = compliance_rows(
        ["35.71", "35.26", "35.13", "35.75"], {"35.71": on_time, "35.26": late, "35.13": never}, now
    )
    assert [r.state for r in rows] == [
        ComplianceState.REPORTED,
        ComplianceState.LATE,
        ComplianceState.OVERDUE,
        ComplianceState.NOT_REQUESTED,
    ]


def test_seed_003_red_zone_comparison_45_to_29_and_25_to_33() -> None:
    """Anev rakor: red-zone kab/kota in regions holding elections fell 45 → 29; in the others rose 25 → 33."""
    template = ReportTemplate(
        template_id="tpl-anev-zonasi",
        title="Zonasi risiko Covid-19: daerah Pilkada vs non-Pilkada",
        institution=Institution.KEMENDAGRI,
        items=[
            TemplateItem(
                key="red_zones_election", label="Red-zone kab/kota holding elections", type=ItemType.INT
            ),
            TemplateItem(
                key="red_zones_no_election",
                label="Red-zone kab/kota not holding elections",
                type=ItemType.INT,
            ),
        ],
    )
    s = _schedule(
        schedule_id="sch-anev",
        template_id=template.template_id,
        owner=Party(institution=Institution.KEMENDAGRI, region="31"),
        obligated=PartySet(institution=Institution.KEMENDAGRI, within="31", level=1),
        regions=["35", "33", "32"],
        cadence=Cadence(kind="weekly", weekdays=[4], at=time(9, 0)),
        starts_on=date(2020, 9, 1),
    )
    figures = {
        "2020-09-25": {"35": (20, 10), "33": (15, 7), "32": (10, 8)},  # 45, 25
        "2020-10-02": {"35": (12, 14), "33": (10, 9), "32": (7, 10)},  # 29, 33
    }
    by_period = {}
    for period_id, per_region in figures.items():
        period = period_for(s, period_id, WIB)
        obs = []
        for region, (election, no_election) in per_region.items():
            ob, _ = submit_report(
                new_obligation(s, template, region, period),
                {"red_zones_election": election, "red_zones_no_election": no_election},
                submitted_by="satgas",
                submission_id=f"s-{region}-{period_id}",
                channel="event",
                now=period.due_at - timedelta(hours=1),
            )
            obs.append(ob)
        by_period[period_id] = totals_by_province(template.items, obs)
    assert previous_period_id(s, "2020-10-02") == "2020-09-25"

    def national(rows: list[Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for row in rows:
            for k, v in row.totals.items():
                out[k] = out.get(k, 0) + v
        return out

    prev, cur = national(by_period["2020-09-25"]), national(by_period["2020-10-02"])
    assert prev == {"red_zones_election": 45, "red_zones_no_election": 25}
    assert cur == {"red_zones_election": 29, "red_zones_no_election": 33}
    comparison = {
        c.key: c for c in compare_totals(["red_zones_election", "red_zones_no_election"], prev, cur)
    }
    assert (comparison["red_zones_election"].change, comparison["red_zones_election"].trend) == (-16, "down")
    assert (comparison["red_zones_no_election"].change, comparison["red_zones_no_election"].trend) == (
        8,
        "up",
    )
    assert [row.province for row in by_period["2020-10-02"]] == ["32", "33", "35"]
