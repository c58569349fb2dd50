"""Region helpers: expanding institution-by-region sets (local time: ``siaga_schemas.localtime``)."""

from __future__ import annotations

from siaga_schemas.common import Party, PartySet
from siaga_schemas.errors import DomainError
from siaga_schemas.regions import children, region_info

__all__ = ["expand_party_set", "province_of"]


def province_of(region: str) -> str:
    return region.split(".")[0]


def expand_party_set(party_set: PartySet, *, field: str, limit: int) -> list[Party]:
    """Every party of an institution-by-region set, e.g. every KPU kab/kota within 35 (38 parties)."""
    info = region_info(party_set.within)
    if info is None:  # pragma: no cover - PartySet already validated the code
        raise DomainError(f"{field}.within", "unknown region")
    if party_set.level < info.level:
        raise DomainError(
            f"{field}.level",
            f"level {party_set.level} is above the level of {party_set.within} ({int(info.level)})",
        )
    codes = [party_set.within]
    for _ in range(party_set.level - int(info.level)):
        codes = [child for code in codes for child in children(code)]
        if len(codes) > limit:
            raise DomainError(field, f"expands to more than {limit} parties")
    return [Party(institution=party_set.institution, region=code) for code in codes]
