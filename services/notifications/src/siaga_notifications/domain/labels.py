"""Alert labels and fingerprints. Label names are identifiers, so they are safe as stored keys."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from siaga_schemas import region_info

__all__ = [
    "LABEL_NAME",
    "alert_id_for",
    "check_labels",
    "common_region",
    "fingerprint",
    "region_labels",
    "region_name",
    "short_hash",
]

LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAX_LABEL_VALUE = 300


def check_labels(labels: Mapping[str, object]) -> dict[str, str]:
    """Labels with validated names (no '.', no '$') and bounded text values."""
    out: dict[str, str] = {}
    for name, value in labels.items():
        if not isinstance(name, str) or not LABEL_NAME.match(name):
            raise ValueError(f"label name {name!r} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        text = str(value)
        if len(text) > MAX_LABEL_VALUE:
            raise ValueError(f"label {name}: value longer than {MAX_LABEL_VALUE} characters")
        out[name] = text
    return out


def short_hash(*parts: str, length: int = 24) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def fingerprint(identity: Mapping[str, str]) -> str:
    """Dedup key of an alert: hex SHA-256 of its identifying labels, sorted."""
    return short_hash(*(f"{k}={identity[k]}" for k in sorted(identity)), length=32)


def alert_id_for(fp: str) -> str:
    return f"alr-{fp[:20]}"


def region_labels(region: str | None) -> dict[str, str]:
    """``region``, ``province`` and ``kab_kota`` labels of a region code (for grouping and inhibition)."""
    if not region:
        return {}
    out = {"region": region, "province": region.split(".")[0]}
    parts = region.split(".")
    if len(parts) >= 2:
        out["kab_kota"] = ".".join(parts[:2])
    return out


def common_region(regions: Iterable[str | None]) -> str | None:
    """The deepest region containing all of ``regions`` (``None``: national or no common province)."""
    common: list[str] | None = None
    for r in regions:
        if not r:
            return None
        parts = r.split(".")
        if common is None:
            common = parts
            continue
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
        if not common:
            return None
    return ".".join(common) if common else None


def region_name(code: str | None, *, national: str) -> str:
    if not code:
        return national
    info = region_info(code)
    return info.name if info else code
