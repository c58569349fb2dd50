"""One row of a plan file: its cells parsed in column order, then the ``TpsRow`` built, a pydantic error
mapped back to the file's column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from siaga_schemas.events.logistics import ItemType, ShipmentLine

from ..domain.catalogue import CATALOGUE
from ..domain.plan_types import TpsRow
from . import values as v
from .columns import FileHeader, ParsedRow, RowError, item_field

__all__ = ["CellValues", "build_row", "read_cells", "validation_error"]


@dataclass(slots=True)
class CellValues:
    """One row read cell by cell, before the ``TpsRow`` is built (the long format merges several)."""

    line: int
    values: dict[str, object]  # TpsRow keyword arguments, without items
    raw: dict[str, object]  # field → the cell as read, for messages
    items: list[ShipmentLine] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        desa, number = self.values["desa"], self.values["number"]
        assert isinstance(desa, str) and isinstance(number, int)
        return desa, number


def _line(item: ItemType, variant: str | None, quantity: int) -> ShipmentLine:
    return ShipmentLine(item=item, variant=variant, quantity=quantity, unit=CATALOGUE[item].unit)


def _missing(header: FileHeader, parsed: dict[str, object], line: int, before: int) -> RowError | None:
    """A required cell left empty left of position ``before``: it comes first in column order."""
    for fld in header.required:
        pos = header.position[fld]
        if pos >= before:
            return None
        if fld not in parsed:
            return RowError(line, header.names[pos], "wajib diisi")
    return None


def read_cells(header: FileHeader, cells: Sequence[object], line: int) -> CellValues | RowError | None:
    """Parse the cells of one row in column order; the first bad cell is the error. None: an empty row."""
    out = CellValues(line, {}, {})
    parsed, raw = out.values, out.raw
    plan, width, blank = header.plan, len(header.plan), True
    for pos, cell in enumerate(cells):
        if cell is None or (type(cell) is str and (not cell or cell.isspace())):
            continue
        blank = False
        fld, parse = plan[pos] if pos < width else (None, None)
        if fld is None or parse is None:
            shown = v.show(cell)
            return _missing(header, parsed, line, pos) or RowError(
                line, "", f'"{shown}" di kolom ke-{pos + 1}, yang tidak punya nama di header', shown
            )
        try:
            parsed[fld] = parse(cell)
        except v.BadValue as exc:
            return _missing(header, parsed, line, pos) or RowError(
                line, header.names[pos], str(exc), v.show(cell)
            )
        raw[fld] = cell
    if blank:
        return None
    missing = _missing(header, parsed, line, width)
    if missing is not None:
        return missing
    for pos, (item, variant) in header.items.items():
        fld = header.fields[pos]
        if fld in parsed:
            quantity = parsed.pop(fld)
            assert isinstance(quantity, int)
            out.items.append(_line(item, variant, quantity))
            out.item_lines.append(line)
    if header.long:
        problem = _long_item(header, parsed, out)
        if problem is not None:
            return problem
    if "contests" not in parsed:
        parsed["contests"] = header.default_contests
    return out


def _long_item(header: FileHeader, parsed: dict[str, object], out: CellValues) -> RowError | None:
    item, variant, quantity = (
        parsed.pop("barang", None),
        parsed.pop("varian", None),
        parsed.pop("jumlah", None),
    )
    name = header.column_name
    if item is None and quantity is None:
        if variant is not None:
            return RowError(out.line, name("barang"), "wajib diisi bila varian diisi")
        return None
    if item is None:
        return RowError(out.line, name("barang"), "wajib diisi bila jumlah diisi")
    if quantity is None:
        return RowError(out.line, name("jumlah"), "wajib diisi bila barang diisi")
    assert isinstance(item, ItemType) and isinstance(quantity, int)
    assert variant is None or isinstance(variant, str)
    if CATALOGUE[item].per_contest and variant is None:
        return RowError(out.line, name("varian"), f"wajib diisi (nama pemilihan) untuk {v.ITEM_NAMES[item]}")
    if not CATALOGUE[item].per_contest and variant is not None:
        return RowError(
            out.line,
            name("varian"),
            f'"{variant}" tidak berlaku untuk {v.ITEM_NAMES[item]}; kosongkan',
            v.show(out.raw["varian"]),
        )
    out.items.append(_line(item, variant, quantity))
    out.item_lines.append(out.line)
    out.raw[item_field(item, variant)] = out.raw["jumlah"]
    return None


def build_row(header: FileHeader, cv: CellValues) -> ParsedRow | RowError:
    """The ``TpsRow`` of parsed cells; a validation error becomes a ``RowError`` naming the file's column.
    No quantities at all: ``items=None``, the domain derives the allocation."""
    kwargs = {**cv.values, "items": tuple(cv.items)} if cv.items else cv.values
    try:
        return ParsedRow(cv.line, TpsRow.model_validate(kwargs))
    except ValidationError as exc:
        return validation_error(header, cv, exc)


def validation_error(header: FileHeader, cv: CellValues, exc: ValidationError) -> RowError:
    """Map pydantic's ``loc`` to the field (an ``items`` index to its ``items.<item>/<variant>``), then to the
    column as written; of several errors the one in the leftmost column is reported."""

    def locate(err: Mapping[str, object]) -> tuple[str, int]:
        loc = err["loc"]
        assert isinstance(loc, tuple)
        fld, line = str(loc[0]) if loc else "", cv.line
        if fld == "items" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(cv.items):
            it = cv.items[loc[1]]
            fld, line = item_field(it.item, it.variant), cv.item_lines[loc[1]]
        return fld, line

    errors = exc.errors()
    best = min(errors, key=lambda e: header.position.get(locate(e)[0], len(header.names)))
    fld, line = locate(best)
    value = v.show(cv.raw[fld]) if fld in cv.raw else None
    return RowError(line, header.column_name(fld), _reason(best, value), value)


def _reason(err: Mapping[str, object], value: str | None) -> str:
    ctx = err.get("ctx")
    bound = next(iter(ctx.values()), "") if isinstance(ctx, dict) and ctx else ""
    shown = f'"{value}"' if value is not None else "nilai"
    reasons = {
        "greater_than_equal": f"{shown} kurang dari {bound}",
        "greater_than": f"{shown} harus lebih dari {bound}",
        "less_than_equal": f"{shown} lebih dari {bound}",
        "less_than": f"{shown} harus kurang dari {bound}",
        "too_short": f"{shown} terlalu sedikit",
        "too_long": f"{shown} terlalu banyak",
        "missing": "wajib diisi",
    }
    return reasons.get(str(err.get("type")), f"{shown} tidak valid ({err.get('msg')})")
