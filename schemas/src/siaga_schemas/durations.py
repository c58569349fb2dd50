"""Durations written the Alertmanager way: ``30s``, ``5m``, ``4h``, ``1h30m``, ``2d``: the one parser for
routing files, scenario offsets and anything else a person writes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["Duration", "parse_duration"]

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds in a duration such as ``1h30m``; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is text such as '30s', '5m' or '4h'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is text such as '30s', '5m' or '4h'")
    text = value.strip()
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ValueError(f"invalid duration {value!r}: use forms such as '30s', '5m', '4h' or '1h30m'")
    return total


Duration = Annotated[float, BeforeValidator(parse_duration)]
