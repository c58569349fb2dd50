"""Legs and TPS rows kept as JSON strings inside a shipments document: what goes in comes out, the
document's other legs are left as they were stored, and documents written before (sub-documents) still
read and are rewritten in the new form."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from siaga_logistics.domain.legs import (
    chunk_planned,
    chunk_state,
    kec_planned,
    kec_state,
    legs_in,
    shipment_in,
    supply_tps,
    tps_counts,
    with_shipment,
)
from siaga_logistics.domain.plan_types import KabPlan, TpsRow
from siaga_logistics.domain.planning import build_kab_plan
from siaga_logistics.domain.replan import replan_doc
from siaga_logistics.domain.shipment import Checkpoint
from siaga_logistics.domain.stored import leg, tps_row
from siaga_schemas.events.logistics import HandoverRecord, PodLine, ShipmentDelivered, Site, SiteKind

DESA = "35.26.01.1001"
AT = datetime(2024, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)


def _plan(n: int = 3) -> KabPlan:
    rows = [
        TpsRow.model_validate(
            {
                "desa": DESA,
                "number": i,
                "dpt": 300 + i,
                "contests": ("bupati",),
                "distribution_start": "2024-11-18T08:00",
            }
        )
        for i in range(1, n + 1)
    ]
    plan, problems = build_kab_plan(
        plan_id="plan-x-35.26", election_id="x", kab="35.26", voting_day=date(2024, 11, 27), rows=rows
    )
    assert problems == [] and plan is not None
    return plan


def _doc(plan: KabPlan) -> dict[str, Any]:
    return {"_id": f"c:plan-x-35.26:{DESA}:0", "_v": 1, **chunk_state(plan, plan.kecamatan[0].chunks[0])}


def _as_subdocuments(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document as an earlier version stored it: legs and rows as sub-documents."""
    legs = doc["legs"]
    rows = doc["tps"]
    assert isinstance(legs, dict) and isinstance(rows, dict)
    return {
        **doc,
        "legs": {k: leg(v) for k, v in legs.items()},
        "tps": {k: tps_row(v) for k, v in rows.items()},
    }


def test_the_planned_events_built_from_the_plan_are_those_of_the_stored_legs() -> None:
    """The import builds ShipmentPlanned from the plan, not by materialising each stored leg; both must
    give the same events, in the same order, for every kind of leg (PPK, PPS and TPS)."""
    plan = _plan(5)
    kec = plan.kecamatan[0]
    chunk = kec.chunks[0]
    from_chunk = [s.planned_event() for s in legs_in(chunk_state(plan, chunk))]
    from_kec = [s.planned_event() for s in legs_in(kec_state(plan, kec))]
    assert len(from_chunk) == 6 and len(from_kec) == 1  # one PPS leg and five TPS legs; one PPK leg
    assert chunk_planned(plan, chunk) == from_chunk
    assert kec_planned(plan, kec) == from_kec
    assert [e.model_dump(mode="json") for e in chunk_planned(plan, chunk)] == [
        e.model_dump(mode="json") for e in from_chunk
    ]


def test_every_leg_and_row_is_one_string_and_reads_back_with_aware_times() -> None:
    doc = _doc(_plan())
    assert all(isinstance(v, str) for v in doc["legs"].values())
    assert all(isinstance(v, str) for v in doc["tps"].values())
    one = leg(next(iter(doc["legs"].values())))
    assert one["plan"]["deadline_at"].tzinfo is not None and one["ship"]["eta"].tzinfo is not None
    row = tps_row(doc["tps"]["001"])
    assert row["planned_at"].tzinfo is not None and row["ready"] is False


def test_a_shipment_comes_back_exactly_as_it_was_put_and_touches_no_other_leg() -> None:
    doc = _doc(_plan())
    sid = f"plan-x-35.26:tps-{DESA}-002"
    s, _ = shipment_in(doc, sid).dispatch(AT, AT + timedelta(hours=5))
    s, _ = s.checkpoint(Checkpoint(place="Dermaga", region=DESA, passed_at=AT + timedelta(hours=1), eta=AT))
    after = with_shipment(doc, s)
    assert shipment_in(after, sid) == s  # microseconds and nested checkpoint times included
    before_legs, after_legs = doc["legs"], after["legs"]
    assert isinstance(before_legs, dict) and isinstance(after_legs, dict)
    untouched = [k for k in before_legs if not k.endswith("-002")]
    assert all(after_legs[k] is before_legs[k] for k in untouched)  # the same stored strings, not re-encoded


def test_a_document_written_before_reads_the_same_and_is_rewritten_in_the_new_form() -> None:
    plan = _plan()
    new = _doc(plan)
    old = _as_subdocuments(new)
    assert [s.model_dump() for s in legs_in(old)] == [s.model_dump() for s in legs_in(new)]
    assert tps_counts(old) == tps_counts(new) == (0, 3)
    sid = f"plan-x-35.26:tps-{DESA}-001"
    s, _ = shipment_in(old, sid).dispatch(AT, None)
    rewritten = with_shipment(old, s)
    assert isinstance(rewritten["legs"][f"tps-{DESA}-001"], str)
    lines = plan.kecamatan[0].chunks[0].tps_legs[0].lines
    delivered = ShipmentDelivered(
        shipment_id=sid,
        destination_region=DESA,
        delivered_at=AT,
        lines=[
            PodLine(item=ln.item, variant=ln.variant, shipped=ln.quantity, accepted=ln.quantity, rejected=0)
            for ln in lines
        ],
        handover=HandoverRecord(number="BA-1", handed_over_by="PPS", received_by="KPPS", at=AT),
        plan_id="plan-x-35.26",
        election_id="x",
        destination=Site(kind=SiteKind.TPS, region=DESA, site_id=f"tps-{DESA}-001"),
    )
    supplied_doc, supplied = supply_tps(rewritten, "001", delivered)
    assert supplied is not None and supplied.chunk_tps_ready == 1 and supplied.chunk_tps_total == 3
    assert isinstance(supplied_doc["tps"]["001"], str) and isinstance(supplied_doc["tps"]["002"], dict)
    assert tps_counts(supplied_doc) == (1, 3)  # the two forms side by side


def test_replanning_an_unchanged_document_in_either_form_changes_nothing() -> None:
    plan = _plan()
    fresh = chunk_state(plan, plan.kecamatan[0].chunks[0])
    for doc in (_doc(plan), _as_subdocuments(_doc(plan))):
        same, events = replan_doc(doc, fresh)
        assert same is doc and events == []


def test_the_stored_string_is_plain_json_an_integrator_could_read() -> None:
    stored = _doc(_plan())["legs"][f"tps-{DESA}-001"]
    parsed = json.loads(stored)
    assert parsed["shipment_id"] == f"plan-x-35.26:tps-{DESA}-001" and parsed["ship"]["status"] == "planned"
