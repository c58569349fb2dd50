"""Pure domain of plans at national scale: where legs live, bounded documents, row problems, corrections
and readiness rollups that are exact in any order."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import bson
from hypothesis import given, settings
from hypothesis import strategies as st
from siaga_logistics.domain.layout import CHUNK_TPS, DocKind, leg_ref
from siaga_logistics.domain.legs import (
    chunk_state,
    legs_in,
    shipment_in,
    supply_tps,
    tps_counts,
    with_shipment,
)
from siaga_logistics.domain.plan_docs import leg_hashes, row_from_compact, row_to_compact
from siaga_logistics.domain.plan_types import KabPlan, TpsRow
from siaga_logistics.domain.planning import build_kab_plan
from siaga_logistics.domain.readiness import merge_row, sum_rows
from siaga_logistics.domain.replan import replan_doc
from siaga_logistics.domain.stored import tps_row
from siaga_schemas.events.logistics import (
    HandoverRecord,
    ItemType,
    PodLine,
    ShipmentDelivered,
    ShipmentLine,
    ShipmentReplanned,
    Site,
    SiteKind,
    TransportMode,
)

KAB = "35.26"
DESA = "35.26.01.1001"
START = datetime(2024, 11, 18, 8, 0)


def _row(number: int, desa: str = DESA, **changes: object) -> TpsRow:
    base: dict[str, object] = {
        "desa": desa,
        "number": number,
        "dpt": 300 + number,
        "contests": ("gubernur", "bupati"),
        "distribution_start": START,
    }
    base.update(changes)
    return TpsRow.model_validate(base)


def _build(rows: list[TpsRow], plan_id: str = "plan-x-35.26") -> KabPlan:
    plan, problems = build_kab_plan(
        plan_id=plan_id, election_id="x", kab=KAB, voting_day=date(2024, 11, 27), rows=rows
    )
    assert problems == [] and plan is not None
    return plan


def test_every_leg_maps_to_its_document_from_the_shipment_id_alone() -> None:
    first_of_chunk_1 = f"tps-35.26.01.1001-{CHUNK_TPS + 1:03d}"
    last_of_chunk_0 = f"tps-35.26.01.1001-{CHUNK_TPS:03d}"
    assert leg_ref(f"plan-x-35.26:{first_of_chunk_1}").doc_id == "c:plan-x-35.26:35.26.01.1001:1"
    assert leg_ref(f"plan-x-35.26:{last_of_chunk_0}").doc_id == "c:plan-x-35.26:35.26.01.1001:0"
    assert leg_ref("plan-x-35.26:pps-35.26.01.1001").doc_id == "c:plan-x-35.26:35.26.01.1001:0"
    assert leg_ref("plan-x-35.26:ppk-35.26.01").doc_id == "k:plan-x-35.26:35.26.01"
    own = leg_ref("shp-extra-1")
    assert own.kind is DocKind.STANDALONE and own.doc_id == "s:shp-extra-1"
    assert leg_ref("a:b:tps-35.26.01.1001-001").plan_id == "a:b"  # a plan id may hold ':'


def test_a_large_desa_is_split_into_bounded_chunks() -> None:
    plan = _build([_row(n) for n in range(1, 41)])
    (kec,) = plan.kecamatan
    assert kec.ppk_leg is not None and kec.ppk_leg.tps_served == 40
    chunks = kec.chunks
    full, rest = divmod(40, CHUNK_TPS)
    assert [len(c.tps) for c in chunks] == [CHUNK_TPS] * full + ([rest] if rest else [])
    assert chunks[0].pps_leg is not None and all(c.pps_leg is None for c in chunks[1:])
    sizes = [len(bson.encode(chunk_state(plan, c))) for c in chunks]
    assert max(sizes) < 64 * 1024  # a chunk holds at most CHUNK_TPS + 1 legs: bounded
    assert all(len(c.tps_legs) <= CHUNK_TPS for c in chunks)


def test_row_problems_name_the_row_and_the_column_and_leave_the_rest_in() -> None:
    ballots = ShipmentLine(item=ItemType.BALLOT, variant="bupati", quantity=5, unit="sheet")
    rows = [
        _row(1),
        _row(1),  # the same TPS again
        _row(2, desa="35.25.01.2001"),  # another kab/kota
        _row(3, items=(ballots,)),  # fewer ballots than DPT + 2%
        _row(4, planned_arrival=datetime(2024, 11, 27, 9, 0)),  # after H-1
        _row(5, pps_mode=TransportMode.SEA),  # the desa's PPS leg was land in row 0
    ]
    plan, problems = build_kab_plan(
        plan_id="p", election_id="x", kab=KAB, voting_day=date(2024, 11, 27), rows=rows
    )
    found = {p.index: p.column for p in problems}
    assert found == {1: "number", 2: "desa", 3: "items.ballot/bupati", 4: "planned_arrival", 5: "pps_mode"}
    assert "DPT" in next(p.message for p in problems if p.index == 3)
    assert plan is not None and plan.tps_total == 1


def test_rows_survive_their_compact_form() -> None:
    line = ShipmentLine(item=ItemType.INK, quantity=3, unit="bottle")
    row = _row(7, items=(line,), direct=True, mode=TransportMode.AIR, hours=3.5)
    back = row_from_compact(row_to_compact(row))
    # a naive time is the desa's local time (WIB here): stored as that instant
    assert back.distribution_start == START.replace(tzinfo=ZoneInfo("Asia/Jakarta"))
    assert back.model_copy(update={"distribution_start": START}) == row
    assert row_to_compact(back) == row_to_compact(row)


def test_a_corrected_row_changes_only_the_documents_and_legs_it_concerns() -> None:
    n = CHUNK_TPS + 2  # the second TPS of chunk 1 gets corrected
    rows = [_row(i) for i in range(1, n + 3)] + [_row(1, desa="35.26.02.2001")]
    before = _build(rows)
    corrected = [*rows]
    corrected[n - 1] = _row(n, dpt=600)  # more voters, so more ballots
    after = _build(corrected)
    old, new = leg_hashes(before), leg_hashes(after)
    changed = {d for d in new if old.get(d) != new[d]}
    # its chunk, the desa's PPS leg (chunk 0: its lines sum the desa) and the kecamatan's PPK leg
    assert changed == {
        "c:plan-x-35.26:35.26.01.1001:1",
        "c:plan-x-35.26:35.26.01.1001:0",
        "k:plan-x-35.26:35.26.01",
    }
    chunk_before = {"_id": "c", "_v": 3, **chunk_state(before, before.kecamatan[0].chunks[1])}
    state, events = replan_doc(chunk_before, chunk_state(after, after.kecamatan[0].chunks[1]))
    assert [type(e) for e in events] == [ShipmentReplanned]
    assert events[0].shipment_id.endswith(f"tps-35.26.01.1001-{n:03d}") and "lines" in events[0].changed  # type: ignore[attr-defined]
    assert tps_row(state["tps"][f"{n:03d}"])["dpt"] == 600
    same, none = replan_doc(chunk_before, chunk_state(before, before.kecamatan[0].chunks[1]))
    assert same is chunk_before and none == []


def _delivered(shipment: str, tps: str, lines: list[ShipmentLine], short: int = 0) -> ShipmentDelivered:
    at = datetime(2024, 11, 25, 10, tzinfo=UTC)
    pod = [
        PodLine(
            item=ln.item,
            variant=ln.variant,
            shipped=ln.quantity - (short if i == 0 else 0),
            accepted=ln.quantity - (short if i == 0 else 0),
            rejected=0,
        )
        for i, ln in enumerate(lines)
    ]
    return ShipmentDelivered(
        shipment_id=shipment,
        destination_region=DESA,
        delivered_at=at,
        lines=pod,
        handover=HandoverRecord(number="BA-1", handed_over_by="PPS", received_by="KPPS", at=at),
        plan_id="plan-x-35.26",
        election_id="x",
        destination=Site(kind=SiteKind.TPS, region=DESA, site_id=tps),
    )


def test_a_tps_counts_once_whatever_the_number_of_deliveries_and_repeats() -> None:
    plan = _build([_row(1), _row(2)])
    chunk = plan.kecamatan[0].chunks[0]
    doc = {"_id": "c:plan-x-35.26:35.26.01.1001:0", "_v": 1, **chunk_state(plan, chunk)}
    lines = list(chunk.tps_legs[0].lines)
    short = _delivered("extra-1", "tps-35.26.01.1001-001", lines, short=1)
    doc, supplied = supply_tps(doc, "001", short)
    assert supplied is None and tps_counts(doc) == (0, 2)  # one ballot box short: not ready
    doc, again = supply_tps(doc, "001", short)
    assert again is None and tps_row(doc["tps"]["001"])["accepted"]["ballot_box/"] == lines[0].quantity - 1
    top_up = _delivered("extra-2", "tps-35.26.01.1001-001", [lines[0].model_copy(update={"quantity": 1})])
    doc, supplied = supply_tps({**doc, "_v": 2}, "001", top_up)
    assert supplied is not None and supplied.chunk_tps_ready == 1 and supplied.chunk_version == 3
    assert tps_counts(doc) == (1, 2)


def test_a_shipment_inside_a_chunk_moves_on_its_own() -> None:
    plan = _build([_row(1), _row(2)])
    doc = {"_id": "c", "_v": 1, **chunk_state(plan, plan.kecamatan[0].chunks[0])}
    sid = "plan-x-35.26:tps-35.26.01.1001-002"
    s = shipment_in(doc, sid)
    moved, events = s.dispatch(datetime(2024, 11, 24, 8, tzinfo=UTC), None)
    doc = with_shipment(doc, moved)
    statuses = {x.shipment_id: x.status.value for x in legs_in(doc)}
    assert statuses[sid] == "dispatched" and list(statuses.values()).count("planned") == 2
    assert len(events) == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(1, 40)), min_size=1, max_size=60),
    st.randoms(use_true_random=False),
)
def test_rollups_are_exact_whatever_the_order_and_the_repeats(
    updates: list[tuple[int, int]], rnd: random.Random
) -> None:
    """Rows merge by version: the counts of every child, in any order, some applied twice, give each
    child's newest count (a chunk's version determines its count, as its document's version does)."""

    def ready(child: int, version: int) -> int:
        return (child * 7 + version * 3) % 17

    events = [(f"c:{child}", version, ready(child, version)) for child, version in updates]
    shuffled = events + rnd.sample(events, k=len(events) // 2)
    rnd.shuffle(shuffled)
    doc: dict[str, object] = {"rows": {}}
    for child, version, count in shuffled:
        merged = merge_row(doc, child, version, count, 16)
        if merged is not None:
            doc = merged
    newest = {c: max(v for cc, v, _ in events if cc == c) for c, _, _ in events}
    expected = sum(ready(int(c[2:]), v) for c, v in newest.items())
    assert sum_rows(doc) == (expected, 16 * len(newest))
