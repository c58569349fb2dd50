"""The long format: one item per row, consecutive rows of one TPS merged into one ``TpsRow``.

The rows of a TPS must be contiguous and agree on every TPS-level column. Only the current TPS's rows are
held; to recognise a TPS that reappears later, the first line of every TPS seen is kept compactly (two
``array`` entries, 6 bytes a TPS, grouped by desa). A TPS with any bad row is reported by its errors only:
half of a TPS's quantities would silently become the derived minimum for the rest.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from siaga_schemas.events.logistics import ShipmentLine

from ..domain.catalogue import line_key
from . import values as v
from .columns import TPS_COLUMNS, FileHeader, ParsedRow, RowError
from .rows import CellValues, build_row

__all__ = ["LongMerger", "try_key"]

_TPS_FIELDS = frozenset(c.field for c in TPS_COLUMNS)


def try_key(header: FileHeader, cells: Sequence[object]) -> tuple[str, int] | None:
    """``(desa, number)`` of a row that failed elsewhere, when those two cells are good."""
    try:
        pos_desa, pos_number = header.position["desa"], header.position["number"]
        return (
            v.parse_desa(cells[pos_desa]),
            v.parse_int(cells[pos_number], 1, 999),
        )
    except (IndexError, v.BadValue):
        return None


def _shown(cell: object) -> str | None:
    return None if v.is_empty(cell) else v.show(cell)


class _Seen:
    """The first line of each TPS seen, per desa: TPS numbers and lines in two parallel arrays."""

    def __init__(self) -> None:
        self._by_desa: dict[str, tuple[array[int], array[int]]] = {}

    def first_line(self, desa: str, number: int) -> int | None:
        entry = self._by_desa.get(desa)
        if entry is None:
            return None
        try:
            return entry[1][entry[0].index(number)]
        except ValueError:
            return None

    def add(self, desa: str, number: int, line: int) -> None:
        numbers, lines = self._by_desa.setdefault(desa, (array("H"), array("L")))
        numbers.append(number)
        lines.append(line)


@dataclass(slots=True)
class _Group:
    key: tuple[str, int]
    line: int
    failed: bool = False
    first: CellValues | None = None
    items: list[ShipmentLine] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)
    item_at: dict[str, tuple[object, int]] = field(default_factory=dict)  # line_key → (quantity cell, line)
    errors: list[RowError] = field(default_factory=list)


class LongMerger:
    """Feed it the rows in file order; it yields ParsedRow / RowError in file order as TPS complete."""

    def __init__(self, header: FileHeader) -> None:
        self._header = header
        self._fields = [f for f in header.fields if f in _TPS_FIELDS]
        self._seen = _Seen()
        self._group: _Group | None = None

    def feed(self, row: CellValues | RowError, key: tuple[str, int] | None) -> Iterator[ParsedRow | RowError]:
        group = self._group
        if key is None:  # the TPS is unknown: the error belongs to no TPS and ends none
            assert isinstance(row, RowError)
            if group is None:
                yield row
            else:
                group.errors.append(row)
            return
        if group is None or key != group.key:
            if group is not None:
                yield from self._finish(group)
            group = self._group = self._start(key, row)
        if isinstance(row, RowError):
            group.errors.append(row)
            group.failed = True
            return
        problem = self._merge(group, row)
        if problem is not None:
            group.errors.append(problem)
            group.failed = True

    def close(self) -> Iterator[ParsedRow | RowError]:
        if self._group is not None:
            yield from self._finish(self._group)
            self._group = None

    def _start(self, key: tuple[str, int], row: CellValues | RowError) -> _Group:
        desa, number = key
        line = row.line
        group = _Group(key, line)
        first = self._seen.first_line(desa, number)
        if first is None:
            self._seen.add(desa, number, line)
        else:
            column = self._header.column_name("number")
            group.failed = True
            group.errors.append(
                RowError(
                    line,
                    column,
                    f"TPS {number:03d} desa {desa} sudah muncul di baris {first}; "
                    "baris satu TPS harus berurutan",
                    _shown(row.raw.get("number")) if isinstance(row, CellValues) else str(number),
                )
            )
        return group

    def _merge(self, group: _Group, row: CellValues) -> RowError | None:
        desa, number = group.key
        first = group.first
        if first is None:
            group.first = first = row
        else:
            for fld in self._fields:
                if row.values.get(fld) != first.values.get(fld):
                    mine, theirs = _shown(row.raw.get(fld)), _shown(first.raw.get(fld))
                    return RowError(
                        row.line,
                        self._header.column_name(fld),
                        f'"{mine or ""}" berbeda dengan baris {first.line} ("{theirs or ""}") untuk TPS '
                        f"{number:03d} desa {desa}",
                        mine,
                    )
        for item, line in zip(row.items, row.item_lines, strict=True):
            k = line_key(item.item, item.variant)
            if k in group.item_at:
                what = v.ITEM_NAMES[item.item] + (f" {item.variant}" if item.variant else "")
                return RowError(
                    line,
                    self._header.column_name("barang"),
                    f"{what} sudah ada di baris {group.item_at[k][1]} untuk TPS {number:03d} desa {desa}",
                    _shown(row.raw.get("barang")),
                )
            group.items.append(item)
            group.item_lines.append(line)
            group.item_at[k] = (row.raw.get(f"items.{k}"), line)
        return None

    def _finish(self, group: _Group) -> Iterator[ParsedRow | RowError]:
        if not group.failed and group.first is not None:
            first = group.first
            raw = dict(first.raw)
            raw.update({f"items.{k}": cell for k, (cell, _) in group.item_at.items()})
            yield build_row(
                self._header, CellValues(group.line, first.values, raw, group.items, group.item_lines)
            )
        yield from sorted(group.errors, key=lambda e: e.line)
