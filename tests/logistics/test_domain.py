"""Pure domain: quantities, deadlines, the shipment state machine and the proof-of-delivery invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from siaga_logistics.domain.catalogue import ballots_for, tps_requirement
from siaga_logistics.domain.delay import severity_for
from siaga_logistics.domain.legs import chunk_state, next_due, shipment_in, with_shipment
from siaga_logistics.domain.plan_spec import PlanSpec, rows_of
from siaga_logistics.domain.plan_types import KabPlan, PlannedLeg, RowProblem
from siaga_logistics.domain.planning import build_kab_plan, planned_share
from siaga_logistics.domain.pod import check_pod, discrepancies
from siaga_logistics.domain.shipment import Status
from siaga_schemas.errors import DomainError
from siaga_schemas.events.logistics import (
    DelaySeverity,
    DiscrepancyCategory,
    ItemType,
    PodLine,
    RejectionReason,
    ShipmentLine,
)
from siaga_schemas.regions import children

WITA = timedelta(hours=8)


def test_ballots_are_dpt_plus_two_percent_rounded_up() -> None:
    assert ballots_for(540) == 551  # 10.8 → 11
    assert ballots_for(500) == 510
    assert ballots_for(1) == 2
    lines = tps_requirement(300, ["gubernur", "bupati"])
    ballots = {ln.variant: ln.quantity for ln in lines if ln.item is ItemType.BALLOT}
    assert ballots == {"gubernur": 306, "bupati": 306}
    assert next(ln for ln in lines if ln.item is ItemType.BALLOT_BOX).quantity == 2


def _spec(**changes: object) -> PlanSpec:
    base: dict[str, object] = {
        "plan_id": "p1",
        "election_id": "pilkada2024",
        "region": "65.01",
        "voting_day": "2024-11-27",
        "contests": ["bupati"],
        "distribution_starts_at": "2024-11-20T08:00:00",
        "ppk": [{"region": "65.01.07", "mode": "river"}],
        "pps": [{"region": "65.01.07.2001", "mode": "river"}],
        "tps": [
            {"tps_id": "tps-65.01.07.2001-001", "region": "65.01.07.2001", "dpt": 400, "mode": "on_foot"},
            {
                "tps_id": "tps-65.01.09.2001-001",
                "region": "65.01.09.2001",
                "dpt": 200,
                "mode": "air",
                "direct": True,
            },
        ],
    }
    base.update(changes)
    return PlanSpec.model_validate(base)


def _plan(spec: PlanSpec) -> tuple[KabPlan | None, list[RowProblem]]:
    return build_kab_plan(
        plan_id=spec.plan_id,
        election_id=spec.election_id,
        kab=spec.region,
        voting_day=spec.voting_day,
        rows=rows_of(spec),
        distribution_start=spec.distribution_starts_at,
    )


def _legs(plan: KabPlan) -> dict[str, PlannedLeg]:
    out: dict[str, PlannedLeg] = {}
    for kec in plan.kecamatan:
        if kec.ppk_leg is not None:
            out[kec.ppk_leg.leg_id] = kec.ppk_leg
        for chunk in kec.chunks:
            for leg in ([chunk.pps_leg] if chunk.pps_leg else []) + chunk.tps_legs:
                out[leg.leg_id] = leg
    return out


def test_deadlines_run_back_from_h1_in_local_time() -> None:
    plan, problems = _plan(_spec())
    assert plan is not None and problems == []
    h1 = datetime(2024, 11, 27, 0, 0, tzinfo=UTC) - WITA  # end of 26 Nov, WITA
    assert plan.legal_deadline_at == h1
    legs = _legs(plan)
    assert legs["tps-65.01.07.2001-001"].deadline_at == h1
    # PPS leg: H-1 minus the on-foot leg (12 h) and handling at the PPS (12 h)
    assert legs["pps-65.01.07.2001"].deadline_at == h1 - timedelta(hours=24)
    # PPK leg: minus the river leg (16 h) and handling at the PPK (24 h)
    assert legs["ppk-65.01.07"].deadline_at == h1 - timedelta(hours=64)
    direct = legs["tps-65.01.09.2001-001"]
    assert direct.origin.kind == "warehouse" and direct.mode == "air"
    assert legs["ppk-65.01.07"].lines[2].quantity == 408  # ballots of the first TPS
    assert planned_share([], 0, h1) == 0.0


def test_infeasible_and_foreign_plans_name_the_row_or_field() -> None:
    plan, problems = _plan(_spec(distribution_starts_at="2024-11-26T08:00:00"))
    # the river TPS cannot get its logistics by H-1; the direct air TPS still can
    assert [(p.index, p.column) for p in problems] == [(0, "distribution_start")]
    assert plan is not None and plan.tps_total == 1
    with pytest.raises(DomainError) as err:
        _plan(_spec(pps=[{"region": children(children("65.02")[0])[0]}]))
    assert err.value.field == "pps.0.region"
    with pytest.raises(DomainError) as err:
        _plan(_spec(tps=[{"tps_id": "tps-a", "region": "65.01.07.2001", "dpt": 400}]))
    assert err.value.field == "tps.0.tps_id"


def test_severity_steps() -> None:
    deadline = datetime(2024, 11, 26, 16, tzinfo=UTC)
    eta = deadline - timedelta(days=5)
    crit = timedelta(hours=48)
    assert severity_for(eta, eta, deadline, critical_slack=crit) is None
    assert severity_for(eta + timedelta(hours=1), eta, deadline, critical_slack=crit) is DelaySeverity.WARNING
    assert (
        severity_for(deadline - timedelta(hours=2), eta, deadline, critical_slack=crit)
        is DelaySeverity.CRITICAL
    )
    assert severity_for(deadline, eta, deadline, critical_slack=crit) is DelaySeverity.WILL_MISS_H1


reasons = st.dictionaries(st.sampled_from(list(RejectionReason)), st.integers(1, 50), max_size=4)


@given(shipped=st.integers(0, 200), accepted=st.integers(0, 200), rejection=reasons)
def test_pod_line_invariant(shipped: int, accepted: int, rejection: dict[RejectionReason, int]) -> None:
    rejected = sum(rejection.values())
    valid = accepted + rejected == shipped
    try:
        line = PodLine(
            item=ItemType.BALLOT,
            shipped=shipped,
            accepted=accepted,
            rejected=rejected,
            rejection_reasons=rejection,
        )
    except ValidationError:
        assert not valid
        return
    assert valid
    assert line.accepted + line.rejected == line.shipped
    planned = [ShipmentLine(item=ItemType.BALLOT, quantity=shipped + 3, unit="sheet")]
    check_pod(planned, [line])
    found = discrepancies(planned, [line])
    # every rejected unit and every unit not shipped is one discrepancy unit, by category
    assert sum(d.quantity for d in found) == rejected + 3
    assert {d.category for d in found} == {DiscrepancyCategory.SHORT} | {
        DiscrepancyCategory(r.value) for r in rejection
    }


@given(shipped=st.integers(1, 100), rejected=st.integers(1, 100))
def test_rejection_without_reason_is_refused(shipped: int, rejected: int) -> None:
    with pytest.raises(ValidationError):
        PodLine(item=ItemType.INK, shipped=shipped + rejected, accepted=shipped, rejected=rejected)


def test_pod_must_cover_each_line_once() -> None:
    planned = [ShipmentLine(item=ItemType.INK, quantity=2, unit="bottle")]
    ok = PodLine(item=ItemType.INK, shipped=2, accepted=2, rejected=0)
    with pytest.raises(DomainError, match="appears twice"):
        check_pod(planned, [ok, ok])
    with pytest.raises(DomainError) as err:
        check_pod(planned, [PodLine(item=ItemType.SEAL, shipped=1, accepted=1, rejected=0)])
    assert err.value.field == "lines.0.item"
    with pytest.raises(DomainError) as err:
        check_pod(planned, [PodLine(item=ItemType.INK, shipped=3, accepted=3, rejected=0)])
    assert err.value.field == "lines.0.shipped"


def test_a_document_is_due_at_once_when_an_eta_reported_late_has_already_passed() -> None:
    """An ETA that was already past when it was reported (a checkpoint's late estimate) makes the leg due
    now, not at its next severity step days ahead; each later step follows once the one before is held."""
    plan, _ = _plan(_spec())
    assert plan is not None
    chunk = plan.kecamatan[0].chunks[0]
    doc = chunk_state(plan, chunk)
    sid = f"{plan.plan_id}:tps-65.01.07.2001-001"
    leg = shipment_in(doc, sid)
    slack = timedelta(hours=48)
    now = leg.deadline_at - timedelta(days=4)
    late = leg.model_copy(update={"eta": now - timedelta(minutes=5), "status": Status.IN_TRANSIT})
    others = {k: v for k, v in doc["legs"].items() if k == "tps-65.01.07.2001-001"}
    doc = with_shipment({**doc, "legs": others}, late)
    assert next_due(doc, now, slack) == now
    warned = late.model_copy(update={"delay_severity": DelaySeverity.WARNING})
    assert next_due(with_shipment(doc, warned), now, slack) == leg.deadline_at - slack + timedelta(seconds=1)
    on_time = late.model_copy(update={"eta": now + timedelta(hours=1)})
    assert next_due(with_shipment(doc, on_time), now, slack) == now + timedelta(hours=1, seconds=1)
    done = late.model_copy(update={"delay_severity": DelaySeverity.WILL_MISS_H1})
    assert next_due(with_shipment(doc, done), now, slack) is None
