"""Importing the plan of one kab/kota: merged with what is stored, compared leg document by leg document,
and written in bulk. An import of the same rows writes nothing and emits nothing; an import of corrected
rows writes only the documents whose rows changed and emits only their events.

Rows are upserts keyed by (desa, TPS number): a row in the file replaces the stored row of that TPS, a
TPS absent from the file keeps its stored row (a kecamatan may send its own file). A leg is cancelled
through the shipments API, never by leaving it out of a file.

Order of writes, for a crash at any point: the leg documents (with their ShipmentPlanned and
ShipmentReplanned events), then the kab/kota rollup, then the stored rows, then the header (with
PlanCreated or PlanRevised). Running the same import again after a crash finishes it: what was written
compares equal and is skipped, what was not is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from siaga_runtime import Clock, Decision, Doc
from siaga_schemas import EventData
from siaga_schemas.events.logistics import PlanCreated, PlanRevised

from ..domain.layout import chunk_doc_id, kec_doc_id, plan_id_for
from ..domain.legs import chunk_planned, chunk_state, kec_planned, kec_state, tps_counts
from ..domain.plan_docs import header_state, leg_hashes, row_from_compact, row_key, row_to_compact, rows_state
from ..domain.plan_types import KabPlan, RowProblem, TpsRow
from ..domain.planning import build_kab_plan, curve
from ..domain.readiness import kab_rollup_id, kab_rollup_state
from ..domain.replan import cancel_dropped, replan_doc
from .common import Stores
from .shipments import schedule_next

__all__ = ["STORED_ROW", "KabImport", "import_kab", "rows_id"]

STORED_ROW = -1  # the index of a problem found on a row stored by an earlier import


def rows_id(plan_id: str) -> str:
    return f"rows:{plan_id}"


@dataclass(slots=True)
class KabImport:
    """What importing one kab/kota's rows did; ``accepted`` and ``problems`` name the given rows by index."""

    plan_id: str
    kab: str
    plan: KabPlan | None = None
    created: bool = False
    unchanged: bool = False
    accepted: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    tps_added: int = 0
    docs_written: int = 0
    legs_planned: int = 0
    legs_replanned: int = 0
    legs_cancelled: int = 0


@dataclass(slots=True)
class _Merged:
    rows: list[TpsRow]
    origin: list[int | None]  # per merged row: the given row's index, or None for a stored row


def merge_rows(
    stored: dict[str, TpsRow], given: list[TpsRow], left_out: set[int]
) -> tuple[_Merged, list[RowProblem]]:
    """Stored rows overridden by the given ones, each TPS once (a TPS given twice: the second is a problem).

    A setting shared by several TPS (the PPS leg of a desa, the PPK leg of a kecamatan, the kab/kota's
    distribution start) that a given row sets applies to the stored rows it governs too: correcting the
    mode of a kecamatan's PPK leg is one row's change, not one per TPS."""
    merged: dict[str, tuple[TpsRow, int | None]] = {k: (r, None) for k, r in stored.items()}
    seen: set[str] = set()
    problems: list[RowProblem] = []
    desa: dict[str, dict[str, object]] = {}
    kec: dict[str, dict[str, object]] = {}
    start: dict[str, object] = {}
    for i, row in enumerate(given):
        if i in left_out:
            continue
        key = row_key(row)
        if key in seen:
            problems.append(
                RowProblem(i, "number", f"TPS {row.number:03d} desa {row.desa} sudah ada di baris sebelumnya")
            )
            continue
        seen.add(key)
        merged[key] = (row, i)
        if not row.direct:
            desa.setdefault(row.desa, {"pps_mode": row.pps_mode, "pps_hours": row.pps_hours})
            kec.setdefault(row.kecamatan, {"ppk_mode": row.ppk_mode, "ppk_hours": row.ppk_hours})
        if row.distribution_start is not None:
            start.setdefault("distribution_start", row.distribution_start)
    for key, (row, origin) in list(merged.items()):
        if origin is not None:
            continue
        update = {
            **start,
            **(kec.get(row.kecamatan, {}) if not row.direct else {}),
            **(desa.get(row.desa, {}) if not row.direct else {}),
        }
        if update:
            merged[key] = (row.model_copy(update=update), None)
    ordered = [merged[k] for k in sorted(merged)]
    return _Merged([r for r, _ in ordered], [o for _, o in ordered]), problems


def plan_merged(
    *,
    plan_id: str,
    election_id: str,
    kab: str,
    voting_day: date,
    stored: dict[str, TpsRow],
    given: list[TpsRow],
    distribution_start: datetime | None,
    warehouse_name: str | None,
) -> tuple[KabPlan | None, dict[str, TpsRow], list[int], list[RowProblem]]:
    """The plan of the merged rows, the rows it holds, the given rows accepted, and the problems.

    A given row that the plan rejects is left out and the plan built again, with that TPS's stored row
    when there is one, until no given row is rejected any more."""
    left_out: dict[int, RowProblem] = {}
    while True:
        merged, duplicates = merge_rows(stored, given, set(left_out))
        plan, found = build_kab_plan(
            plan_id=plan_id,
            election_id=election_id,
            kab=kab,
            voting_day=voting_day,
            rows=merged.rows,
            distribution_start=distribution_start,
            warehouse_name=warehouse_name,
        )
        fresh = {merged.origin[p.index]: p for p in found if merged.origin[p.index] is not None}
        if not fresh:
            break
        for index, p in fresh.items():
            assert index is not None
            left_out[index] = RowProblem(index, p.column, p.message)
    bad = {p.index for p in found}
    kept = {row_key(r): r for i, r in enumerate(merged.rows) if i not in bad}
    accepted = sorted(o for i, o in enumerate(merged.origin) if o is not None and i not in bad)
    stored_problems = [RowProblem(STORED_ROW, p.column, p.message) for p in found]
    problems = sorted([*left_out.values(), *duplicates], key=lambda p: p.index) + stored_problems
    return plan, kept, accepted, problems


def _change(
    fresh: Doc, clock: Clock, planned: Callable[[], Sequence[EventData]]
) -> Callable[[Doc | None], Decision]:
    """The change of one leg document: ``fresh`` with its ``planned`` events when it is new, else what
    the plan changes in the stored one."""

    def change(doc: Doc | None) -> Decision:
        if doc is None:
            return Decision(state=fresh, emit=list(planned()))
        state, events = replan_doc(doc, fresh)
        state, cancelled = cancel_dropped(state, fresh, clock.now())
        if state is doc:
            return Decision(state=None)
        return Decision(state=state, emit=[*events, *cancelled])

    return change


def leg_changes(
    plan: KabPlan, changed: set[str], clock: Clock
) -> dict[str, Callable[[Doc | None], Decision]]:
    """The change of each leg document of the plan whose hash differs from the stored one."""
    out: dict[str, Callable[[Doc | None], Decision]] = {}
    for kec in plan.kecamatan:
        doc_id = kec_doc_id(plan.plan_id, kec.kecamatan)
        if doc_id in changed:
            out[doc_id] = _change(kec_state(plan, kec), clock, partial(kec_planned, plan, kec))
        for chunk in kec.chunks:
            doc_id = chunk_doc_id(plan.plan_id, chunk.desa, chunk.k)
            if doc_id in changed:
                out[doc_id] = _change(chunk_state(plan, chunk), clock, partial(chunk_planned, plan, chunk))
    return out


def _plan_event(plan: KabPlan, header: Doc | None, result: KabImport) -> EventData:
    points = curve([t.planned_at for t in plan.all_tps()])
    if header is None:
        return PlanCreated(
            plan_id=plan.plan_id,
            election_id=plan.election_id,
            region=plan.region,
            voting_day=plan.voting_day.isoformat(),
            legal_deadline_at=plan.legal_deadline_at,
            tps_total=plan.tps_total,
            legs=plan.legs,
            curve=points,
        )
    return PlanRevised(
        plan_id=plan.plan_id,
        election_id=plan.election_id,
        region=plan.region,
        tps_total=plan.tps_total,
        legs=plan.legs,
        tps_added=result.tps_added,
        legs_replanned=result.legs_replanned,
        curve=points,
    )


async def import_kab(
    stores: Stores,
    clock: Clock,
    *,
    election_id: str,
    voting_day: date,
    kab: str,
    rows: list[TpsRow],
    distribution_start: datetime | None = None,
    warehouse_name: str | None = None,
    plan_id: str | None = None,
    critical_slack: timedelta = timedelta(hours=48),
) -> KabImport:
    """Import (or import again) rows of one kab/kota."""
    pid = plan_id or plan_id_for(election_id, kab)
    out = KabImport(pid, kab)
    stored_doc = await stores.plans.get(rows_id(pid))
    stored = {row_key(r): r for r in map(row_from_compact, (stored_doc or {}).get("rows", []))}
    warehouse = warehouse_name or (stored_doc or {}).get("warehouse_name")
    plan, kept, out.accepted, out.problems = plan_merged(
        plan_id=pid,
        election_id=election_id,
        kab=kab,
        voting_day=voting_day,
        stored=stored,
        given=rows,
        distribution_start=distribution_start,
        warehouse_name=warehouse,
    )
    out.plan = plan
    if any(p.index == STORED_ROW for p in out.problems):
        # the given rows would make rows stored earlier invalid: change nothing, and say why on each row
        reason = "; ".join(p.message for p in out.problems if p.index == STORED_ROW)[:500]
        out.problems = [
            *(p for p in out.problems if p.index != STORED_ROW),
            *(
                RowProblem(i, "desa", f"perubahan ini membuat TPS yang tersimpan tidak sah: {reason}")
                for i in out.accepted
            ),
        ]
        out.accepted, out.plan, out.unchanged = [], None, True
        return out
    same_rows = {k: row_to_compact(r) for k, r in kept.items()} == {
        k: row_to_compact(r) for k, r in stored.items()
    }
    if plan is None or not out.accepted or (stored_doc is not None and same_rows):
        out.unchanged = True
        return out
    hashes = leg_hashes(plan)
    previous = (stored_doc or {}).get("hashes", {})
    out.created = stored_doc is None
    out.tps_added = len(set(kept) - set(stored))
    changed = {doc_id for doc_id, h in hashes.items() if previous.get(doc_id) != h}
    written = await stores.shipments.merge(leg_changes(plan, changed, clock), absent=out.created)
    out.docs_written = written.written
    await schedule_next(stores, list(written.docs.values()), clock.now(), critical_slack)
    for env in written.emitted:
        kind = env.type.rsplit(".", 1)[-1]
        out.legs_planned += kind == "shipment-planned"
        out.legs_replanned += kind == "shipment-replanned"
        out.legs_cancelled += kind == "shipment-cancelled"
    chunks = {
        chunk_doc_id(pid, c.desa, c.k): (0, len(c.tps)) for k in plan.kecamatan for c in k.chunks if c.tps
    }
    for doc_id, doc in written.docs.items():
        if doc_id in chunks:
            chunks[doc_id] = tps_counts(doc)
    rollup = kab_rollup_id(election_id, kab)
    await stores.readiness.merge(
        {rollup: lambda cur: Decision(state=kab_rollup_state(pid, election_id, kab, chunks, cur))}
    )
    rows_doc = rows_state(pid, election_id, kab, voting_day, kept, hashes, warehouse)
    await stores.plans.merge({rows_id(pid): lambda _: Decision(state=rows_doc)}, absent=stored_doc is None)
    header = await stores.plans.get(pid)
    event = _plan_event(plan, header, out)
    state = header_state(
        plan,
        created_at=(header or {}).get("created_at") or clock.now(),
        revision=(header or {}).get("revision", 0) + 1,
    )
    await stores.plans.merge({pid: lambda _: Decision(state=state, emit=[event])}, absent=header is None)
    return out
