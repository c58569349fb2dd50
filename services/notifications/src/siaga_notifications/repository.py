"""Read queries for the API: ``_id`` lookups, and list queries with typed filters only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from siaga_runtime import AggregateStore, Principal, strip_reserved
from siaga_schemas import is_within

__all__ = ["Stores", "find_docs", "readable"]


@dataclass(frozen=True, slots=True)
class Stores:
    alerts: AggregateStore
    groups: AggregateStore
    deliveries: AggregateStore
    silences: AggregateStore
    contacts: AggregateStore
    tokens: AggregateStore
    """Used acknowledge-link tokens, by token id (single use)."""


def readable(principal: Principal, region: str | None) -> bool:
    """Regional accounts read their region and below; alerts without a region are national."""
    if region is None:
        return principal.region is None and bool(principal.roles)
    return principal.can_read(region)


async def find_docs(
    store: AggregateStore,
    flt: dict[str, Any],
    principal: Principal,
    *,
    within: str | None = None,
    limit: int = 200,
    sort_key: str = "_id",
    exclude: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    out = []
    async for d in store.scan(lambda d: all(d.get(k) == v for k, v in flt.items())):
        for k in exclude:
            d.pop(k, None)
        region = d.get("region")
        if not readable(principal, region):
            continue
        if within is not None and (region is None or not is_within(region, within)):
            continue
        out.append(strip_reserved(d))
    out.sort(key=lambda d: (str(d.get(sort_key) or ""), d["_id"]), reverse=sort_key != "_id")
    return out[:limit]
