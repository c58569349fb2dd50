"""The columns of a distribution plan file: names, aliases, the header row and what a row yields.

Indonesian column names are canonical, English aliases are accepted; header names are case-insensitive and
padding is ignored. Quantities come either as *wide* item columns (``kotak_suara``, ``surat_suara_bupati``…)
or in the *long* format (``barang``, ``varian``, ``jumlah``: one item per row), never both in one file.
Errors name the column exactly as the file writes it, so an operator finds the cell. The cells of a row
are parsed in ``rows``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from siaga_schemas.events.logistics import ItemType

from ..domain.catalogue import CATALOGUE, line_key
from ..domain.plan_types import TpsRow
from . import values as v

__all__ = [
    "LONG_COLUMNS",
    "TPS_COLUMNS",
    "Column",
    "FileHeader",
    "HeaderError",
    "ParsedRow",
    "RowError",
    "item_field",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # canonical, Indonesian
    aliases: tuple[str, ...]
    field: str  # the TpsRow field; the long-format columns use their own name


TPS_COLUMNS: Final = (
    Column("kode_desa", ("desa", "village_code"), "desa"),
    Column("no_tps", ("tps", "tps_number"), "number"),
    Column("dpt", ("voters",), "dpt"),
    Column("pemilihan", ("contests",), "contests"),
    Column("rute", ("route",), "direct"),
    Column("moda", ("mode",), "mode"),
    Column("moda_pps", ("pps_mode",), "pps_mode"),
    Column("moda_ppk", ("ppk_mode",), "ppk_mode"),
    Column("jam_tps", ("hours",), "hours"),
    Column("jam_pps", ("pps_hours",), "pps_hours"),
    Column("jam_ppk", ("ppk_hours",), "ppk_hours"),
    Column("mulai_distribusi", ("distribution_start",), "distribution_start"),
    Column("rencana_tiba", ("planned_arrival",), "planned_arrival"),
)
LONG_COLUMNS: Final = (
    Column("barang", ("item",), "barang"),
    Column("varian", ("variant",), "varian"),
    Column("jumlah", ("quantity",), "jumlah"),
)
_BY_NAME: Final = {n: c for c in (*TPS_COLUMNS, *LONG_COLUMNS) for n in (c.name, *c.aliases)}
_CANONICAL: Final = {c.field: c.name for c in (*TPS_COLUMNS, *LONG_COLUMNS)}
_REQUIRED: Final = ("desa", "number", "dpt")
_PER_CONTEST_PREFIX: Final = {
    ItemType.BALLOT: ("surat_suara_", "ballot_"),
    ItemType.FORMS_ENVELOPES: ("formulir_", "forms_envelopes_"),
}
_WIDE_FIXED: Final = {
    n: item
    for item, name in v.ITEM_NAMES.items()
    if not CATALOGUE[item].per_contest
    for n in (name, item.value)
}
_CONTEST_SUFFIX: Final = re.compile(r"[a-z][a-z0-9_]{0,59}")


def _quantity(cell: object) -> int:
    return v.parse_int(cell, 0)


_PARSERS: Final[dict[str, Callable[[object], object]]] = {
    "desa": v.parse_desa,
    "number": lambda c: v.parse_int(c, 1, 999),
    "dpt": lambda c: v.parse_int(c, 1, 1000),
    "contests": v.parse_contests,
    "direct": v.parse_direct,
    "mode": v.parse_mode,
    "pps_mode": v.parse_mode,
    "ppk_mode": v.parse_mode,
    "hours": v.parse_hours,
    "pps_hours": v.parse_hours,
    "ppk_hours": v.parse_hours,
    "distribution_start": v.parse_datetime,
    "planned_arrival": v.parse_datetime,
    "barang": v.parse_item,
    "varian": v.parse_variant,
    "jumlah": _quantity,
}


class HeaderError(ValueError):
    """The header row cannot be used; the message names the column (``column``, as written or canonical)."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int  # 1-based line of the file; for a long-format TPS, its first line
    row: TpsRow


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the column header exactly as written in the file ('' for the whole row)
    reason: str  # in Indonesian, naming the bad value
    value: str | None = None

    def __str__(self) -> str:
        where = f"baris {self.line}" + (f", kolom {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


def item_field(item: ItemType, variant: str | None) -> str:
    return f"items.{line_key(item, variant)}"


def _wide_item(key: str) -> tuple[ItemType, str | None] | None:
    if key in _WIDE_FIXED:
        return _WIDE_FIXED[key], None
    for item, prefixes in _PER_CONTEST_PREFIX.items():
        for prefix in prefixes:
            if key.startswith(prefix) and _CONTEST_SUFFIX.fullmatch(key[len(prefix) :]):
                return item, key[len(prefix) :]
    return None


class FileHeader:
    """What the header row said: which field sits in which position, and each column's name as written
    (padding stripped). Positions with an empty header cell are ignored, as long as their cells are empty."""

    def __init__(self, cells: Sequence[object], *, default_contests: tuple[str, ...] | None = None) -> None:
        self.names: tuple[str, ...] = tuple("" if v.is_empty(c) else v.show(c) for c in cells)
        self.default_contests = default_contests
        self.fields: tuple[str | None, ...] = ()
        self.position: dict[str, int] = {}
        self.items: dict[int, tuple[ItemType, str | None]] = {}  # wide item columns by position
        fields: list[str | None] = []
        for pos, name in enumerate(self.names):
            fields.append(self._place(pos, name) if name else None)
        self.fields = tuple(fields)
        self.plan: tuple[tuple[str | None, Callable[[object], object] | None], ...] = tuple(
            (f, None if f is None else _PARSERS.get(f, _quantity)) for f in fields
        )
        self.required: tuple[str, ...] = ()  # fields a row must fill, in column order
        if not any(fields):
            raise HeaderError("baris header kosong: file tidak memuat nama kolom")
        self.long = any(c.field in self.position for c in LONG_COLUMNS)
        self._check()
        required = _REQUIRED if default_contests else (*_REQUIRED, "contests")
        self.required = tuple(sorted(required, key=self.position.__getitem__))

    def _place(self, pos: int, name: str) -> str:
        key = name.lower()
        column = _BY_NAME.get(key)
        item = None if column is not None else _wide_item(key)
        if column is not None:
            fld = column.field
        elif item is not None:
            fld = item_field(*item)
            self.items[pos] = item
        else:
            raise HeaderError(f'kolom "{name}" tidak dikenal', name)
        if fld in self.position:
            first = self.names[self.position[fld]]
            raise HeaderError(f'kolom "{name}" muncul dua kali (juga "{first}")', name)
        self.position[fld] = pos
        return fld

    def _check(self) -> None:
        for fld in _REQUIRED:
            if fld not in self.position:
                col = next(c for c in TPS_COLUMNS if c.field == fld)
                raise HeaderError(
                    f'kolom wajib "{col.name}" tidak ada (juga diterima: {", ".join(col.aliases)})', col.name
                )
        if "contests" not in self.position and not self.default_contests:
            raise HeaderError('kolom wajib "pemilihan" tidak ada dan tidak ada pemilihan bawaan', "pemilihan")
        if self.long:
            if self.items:
                wide = self.names[min(self.items)]
                longname = self.names[
                    min(self.position[c.field] for c in LONG_COLUMNS if c.field in self.position)
                ]
                raise HeaderError(
                    f'kolom barang format lebar ("{wide}") dan format panjang ("{longname}") tidak boleh dicampur',
                    wide,
                )
            for fld in ("barang", "jumlah"):
                if fld not in self.position:
                    raise HeaderError(f'format panjang: kolom "{fld}" tidak ada', fld)

    def column_name(self, field: str) -> str:
        """The header as written for a ``TpsRow`` field or ``items.<item>/<variant>`` (the ``jumlah``
        column in the long format); the canonical Indonesian name when the file has no such column."""
        if field.startswith("items.") and self.long:
            field = "jumlah"
        pos = self.position.get(field)
        if pos is not None:
            return self.names[pos]
        if field.startswith("items."):
            item_name, _, variant = field[len("items.") :].partition("/")
            try:
                base = v.ITEM_NAMES[ItemType(item_name)]
            except ValueError:
                return field
            return f"{base}_{variant}" if variant else base
        return _CANONICAL.get(field, field)
