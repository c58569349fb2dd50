"""Proof of delivery: every shipped line is accounted for, and what was wrong becomes discrepancies.

The per-line invariant (accepted + rejected == shipped; every rejected unit has a reason) is enforced by
``PodLine`` itself; here the POD is checked against the shipment's lines and turned into the "6 tepat"
discrepancies: short (shipped less than planned, or counted short on arrival), damaged, wrong type and
wrong destination.
"""

from __future__ import annotations

from dataclasses import dataclass

from siaga_schemas.errors import DomainError
from siaga_schemas.events.logistics import (
    DiscrepancyCategory,
    ItemType,
    PodLine,
    RejectionReason,
    ShipmentLine,
)

from .catalogue import line_key

__all__ = ["Discrepancy", "accepted_by_line", "check_pod", "discrepancies"]

_CATEGORY = {
    RejectionReason.DAMAGED: DiscrepancyCategory.DAMAGED,
    RejectionReason.WRONG_TYPE: DiscrepancyCategory.WRONG_TYPE,
    RejectionReason.WRONG_DESTINATION: DiscrepancyCategory.WRONG_DESTINATION,
    RejectionReason.SHORT: DiscrepancyCategory.SHORT,
}


@dataclass(frozen=True, slots=True)
class Discrepancy:
    category: DiscrepancyCategory
    item: ItemType
    variant: str | None
    quantity: int
    note: str


def check_pod(planned: list[ShipmentLine], pod: list[PodLine]) -> None:
    """Each planned line appears exactly once in the POD, and no line ships more than was planned."""
    plan = {line_key(ln.item, ln.variant): ln for ln in planned}
    seen: set[str] = set()
    for i, ln in enumerate(pod):
        k = line_key(ln.item, ln.variant)
        if k not in plan:
            raise DomainError(f"lines.{i}.item", f"{k} is not a line of this shipment")
        if k in seen:
            raise DomainError(f"lines.{i}.item", f"{k} appears twice")
        seen.add(k)
        if ln.shipped > plan[k].quantity:
            raise DomainError(
                f"lines.{i}.shipped", f"shipped {ln.shipped} is more than the {plan[k].quantity} planned"
            )
    missing = [k for k in plan if k not in seen]
    if missing:
        raise DomainError("lines", f"no proof of delivery for {', '.join(missing)}")


def discrepancies(planned: list[ShipmentLine], pod: list[PodLine]) -> list[Discrepancy]:
    plan = {line_key(ln.item, ln.variant): ln.quantity for ln in planned}
    out: list[Discrepancy] = []
    for ln in pod:
        expected = plan.get(line_key(ln.item, ln.variant), ln.shipped)
        if ln.shipped < expected:
            out.append(
                Discrepancy(
                    DiscrepancyCategory.SHORT,
                    ln.item,
                    ln.variant,
                    expected - ln.shipped,
                    f"shipped {ln.shipped} of {expected} planned",
                )
            )
        for reason in RejectionReason:
            n = ln.rejection_reasons.get(reason, 0)
            if n:
                out.append(
                    Discrepancy(
                        _CATEGORY[reason],
                        ln.item,
                        ln.variant,
                        n,
                        f"{n} of {ln.shipped} rejected: {reason.value}",
                    )
                )
    return out


def accepted_by_line(pod: list[PodLine]) -> dict[str, int]:
    return {line_key(ln.item, ln.variant): ln.accepted for ln in pod}
