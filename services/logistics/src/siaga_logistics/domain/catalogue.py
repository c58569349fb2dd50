"""The catalogue of TPS equipment (PKPU 14/2023 as amended by PKPU 16/2023) and per-TPS requirements.

Ballots are printed for the DPT plus a 2% reserve, rounded up, one kind per contest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from siaga_schemas.events.logistics import ItemType, ShipmentLine

__all__ = ["CATALOGUE", "ItemSpec", "ballots_for", "line_key", "sum_lines", "tps_requirement"]

BALLOT_RESERVE_PERCENT = 2
BOOTHS_PER_TPS = 4
INK_BOTTLES_PER_TPS = 2
SEALS_PER_BOX = 10


@dataclass(frozen=True, slots=True)
class ItemSpec:
    item: ItemType
    unit: str
    name: str
    per_contest: bool


CATALOGUE: dict[ItemType, ItemSpec] = {
    s.item: s
    for s in (
        ItemSpec(ItemType.BALLOT_BOX, "unit", "Kotak suara", per_contest=False),
        ItemSpec(ItemType.VOTING_BOOTH, "unit", "Bilik pemungutan suara", per_contest=False),
        ItemSpec(ItemType.BALLOT, "sheet", "Surat suara", per_contest=True),
        ItemSpec(ItemType.INK, "bottle", "Tinta", per_contest=False),
        ItemSpec(ItemType.SEAL, "piece", "Segel", per_contest=False),
        ItemSpec(ItemType.MARKING_TOOL, "set", "Alat untuk mencoblos", per_contest=False),
        ItemSpec(ItemType.FORMS_ENVELOPES, "set", "Formulir dan sampul", per_contest=True),
        ItemSpec(ItemType.TPS_KIT, "set", "Perlengkapan KPPS", per_contest=False),
    )
}


def ballots_for(dpt: int) -> int:
    """DPT plus 2% reserve, rounded up (integer arithmetic: no float rounding surprises)."""
    if dpt < 0:
        raise ValueError("dpt must not be negative")
    return dpt + -(-dpt * BALLOT_RESERVE_PERCENT // 100)


def _line(item: ItemType, quantity: int, variant: str | None = None) -> ShipmentLine:
    return ShipmentLine(item=item, variant=variant, quantity=quantity, unit=CATALOGUE[item].unit)


def tps_requirement(dpt: int, contests: Sequence[str]) -> list[ShipmentLine]:
    """What one TPS needs: one ballot box per contest, booths, ballots and forms per contest, ink, seals…"""
    return list(_requirement(dpt, tuple(contests)))


@lru_cache(maxsize=4096)
def _requirement(dpt: int, contests: tuple[str, ...]) -> tuple[ShipmentLine, ...]:
    """Memoised: a plan of the nation asks for the same few hundred (DPT, contests) pairs 820,161 times,
    and the lines are frozen models, safe to share."""
    boxes = len(contests)
    return (
        _line(ItemType.BALLOT_BOX, boxes),
        _line(ItemType.VOTING_BOOTH, BOOTHS_PER_TPS),
        *(_line(ItemType.BALLOT, ballots_for(dpt), c) for c in contests),
        _line(ItemType.INK, INK_BOTTLES_PER_TPS),
        _line(ItemType.SEAL, SEALS_PER_BOX * boxes),
        _line(ItemType.MARKING_TOOL, BOOTHS_PER_TPS),
        *(_line(ItemType.FORMS_ENVELOPES, 1, c) for c in contests),
        _line(ItemType.TPS_KIT, 1),
    )


def line_key(item: str, variant: str | None) -> str:
    return f"{item}/{variant or ''}"


def sum_lines(groups: Iterable[Iterable[ShipmentLine]]) -> list[ShipmentLine]:
    """Add up lines of the same item and variant, keeping first-seen order (and the first line's unit)."""
    first: dict[str, ShipmentLine] = {}
    totals: dict[str, int] = {}
    for lines in groups:
        for ln in lines:
            k = line_key(ln.item, ln.variant)
            if k in totals:
                totals[k] += ln.quantity
            else:
                first[k] = ln
                totals[k] = ln.quantity
    return [
        ln if ln.quantity == totals[k] else ln.model_copy(update={"quantity": totals[k]})
        for k, ln in first.items()
    ]
