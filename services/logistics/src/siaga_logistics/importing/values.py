"""Parsing of single cells: every parser takes what the file holds (a CSV string, or an XLSX number, string
or datetime) and returns the typed value or raises ``BadValue`` with a reason in Indonesian that names it.

Empty cells never reach a parser: the caller decides what an empty cell means (a default or "wajib diisi").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache, wraps
from typing import Final, TypeVar

from siaga_schemas import region_info
from siaga_schemas.events.logistics import ItemType, TransportMode
from siaga_schemas.regions import RegionLevel

__all__ = [
    "ITEM_NAMES",
    "MODE_NAMES",
    "BadValue",
    "is_empty",
    "parse_contests",
    "parse_datetime",
    "parse_desa",
    "parse_direct",
    "parse_hours",
    "parse_int",
    "parse_item",
    "parse_mode",
    "parse_variant",
    "show",
]

MAX_CONTESTS: Final = 5
MAX_VARIANT: Final = 60  # ShipmentLine.variant

MODE_NAMES: Final[dict[TransportMode, str]] = {
    TransportMode.LAND: "darat",
    TransportMode.RIVER: "sungai",
    TransportMode.SEA: "laut",
    TransportMode.AIR: "udara",
    TransportMode.ON_FOOT: "jalan_kaki",
}
_MODES: Final[dict[str, TransportMode]] = {
    **{name: mode for mode, name in MODE_NAMES.items()},
    **{mode.value: mode for mode in TransportMode},
}

ITEM_NAMES: Final[dict[ItemType, str]] = {
    ItemType.BALLOT_BOX: "kotak_suara",
    ItemType.VOTING_BOOTH: "bilik_suara",
    ItemType.BALLOT: "surat_suara",
    ItemType.INK: "tinta",
    ItemType.SEAL: "segel",
    ItemType.MARKING_TOOL: "alat_coblos",
    ItemType.FORMS_ENVELOPES: "formulir",
    ItemType.TPS_KIT: "perlengkapan_kpps",
}
_ITEMS: Final[dict[str, ItemType]] = {
    **{name: item for item, name in ITEM_NAMES.items()},
    **{item.value: item for item in ItemType},
}

_DIRECT: Final[dict[str, bool]] = {"pps": False, "via_pps": False, "langsung": True, "direct": True}

_INT = re.compile(r"[+-]?\d+(?:[.,]0+)?")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_DESA_SHAPE = re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}")
_REGION_SHAPE = re.compile(r"\d{2}(?:\.\d{2}(?:\.\d{2})?)?")
_CONTEST = re.compile(r"[a-z][a-z0-9_]*")
_SEPARATORS = re.compile(r"[;,|]")
_LEVEL_NAMES: Final = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan"}


_T = TypeVar("_T")


class BadValue(ValueError):
    """A cell that cannot be read; ``str()`` is the reason as shown to the operator."""


def _text_cached(parse: Callable[[object], _T]) -> Callable[[object], _T]:
    """Memoise a parser for text cells: a file repeats the same desa, modes and contests row after row,
    and a cache hit allocates nothing. Bounded; errors are not cached."""
    cached = lru_cache(maxsize=4096)(parse)

    @wraps(parse)
    def parse_cell(cell: object) -> _T:
        return cached(cell) if type(cell) is str else parse(cell)

    return parse_cell


def show(cell: object) -> str:
    """The cell as the operator typed it: ``12`` rather than ``12.0`` for an XLSX number."""
    if type(cell) is str:
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


def is_empty(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and (not cell or cell.isspace()))


def _key(cell: object) -> str:
    """Lower case, with inner spaces and hyphens as underscores: ``Jalan Kaki`` → ``jalan_kaki``."""
    return "_".join(show(cell).lower().replace("-", " ").split())


@lru_cache(maxsize=4096)
def _int_text(text: str) -> int:
    if not _INT.fullmatch(text.strip()):
        raise BadValue(f'"{text.strip()}" bukan bilangan bulat')
    return int(re.split(r"[.,]", text.strip())[0])


def parse_int(cell: object, low: int, high: int | None = None) -> int:
    """An integer in ``[low, high]``; an XLSX number must be whole, a text may end in ``.0``."""
    if isinstance(cell, bool):
        raise BadValue(f'"{show(cell)}" bukan bilangan bulat')
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float) and cell.is_integer():
        value = int(cell)
    elif isinstance(cell, str):
        value = _int_text(cell)
    else:
        raise BadValue(f'"{show(cell)}" bukan bilangan bulat')
    if value < low or (high is not None and value > high):
        if high is None:
            raise BadValue(f'"{show(cell)}" tidak boleh kurang dari {low}')
        raise BadValue(f'"{show(cell)}" di luar rentang {low}–{high}')
    return value


@_text_cached
def parse_hours(cell: object) -> float:
    """Hours of a leg, more than 0 and at most 720 (30 days); decimal point or comma."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        value = float(cell)
    elif isinstance(cell, str) and _DECIMAL.fullmatch(cell.strip()):
        value = float(cell.strip().replace(",", "."))
    else:
        raise BadValue(f'"{show(cell)}" bukan angka jam')
    if not 0 < value <= 720:
        raise BadValue(f'"{show(cell)}" harus lebih dari 0 dan paling banyak 720 jam')
    return value


@_text_cached
def parse_datetime(cell: object) -> datetime:
    """ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]``, or an XLSX date-time; a naive value stays naive."""
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        raise BadValue(f'"{show(cell)}" hanya tanggal; tulis juga jamnya (YYYY-MM-DD HH:MM)')
    text = show(cell)
    if isinstance(cell, str) and _DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise BadValue(f'"{text}" bukan tanggal-waktu (YYYY-MM-DD HH:MM)')


@_text_cached
def parse_mode(cell: object) -> TransportMode:
    mode = _MODES.get(_key(cell))
    if mode is None:
        raise BadValue(f'"{show(cell)}" bukan moda ({", ".join(MODE_NAMES.values())})')
    return mode


@_text_cached
def parse_direct(cell: object) -> bool:
    direct = _DIRECT.get(_key(cell))
    if direct is None:
        raise BadValue(f'"{show(cell)}" bukan rute (pps, langsung)')
    return direct


@_text_cached
def parse_item(cell: object) -> ItemType:
    item = _ITEMS.get(_key(cell))
    if item is None:
        raise BadValue(f'"{show(cell)}" bukan barang ({", ".join(ITEM_NAMES.values())})')
    return item


@_text_cached
def parse_variant(cell: object) -> str:
    text = show(cell).lower()
    if not _CONTEST.fullmatch(text) or len(text) > MAX_VARIANT:
        raise BadValue(
            f'"{show(cell)}" bukan nama pemilihan (huruf kecil, angka, _; paling panjang {MAX_VARIANT})'
        )
    return text


@_text_cached
def parse_contests(cell: object) -> tuple[str, ...]:
    """``gubernur;bupati`` (or ``,`` or ``|``): 1–5 distinct contests, lower-cased."""
    text = show(cell)
    names = [p.strip().lower() for p in _SEPARATORS.split(text) if p.strip()]
    for name in names:
        if not _CONTEST.fullmatch(name) or len(name) > MAX_VARIANT:
            raise BadValue(
                f'"{text}" bukan daftar pemilihan: "{name}" tidak valid (pisahkan dengan ; , atau |)'
            )
    if len(names) > MAX_CONTESTS:
        raise BadValue(f'"{text}" memuat {len(names)} pemilihan, paling banyak {MAX_CONTESTS}')
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BadValue(f'"{text}" memuat "{name}" dua kali')
        seen.add(name)
    if not names:
        raise BadValue(f'"{text}" tidak memuat pemilihan')
    return tuple(names)


@_text_cached
def parse_desa(cell: object) -> str:
    """A level-4 code on the official list; spaces anywhere are dropped (``65.01.01. 2005``)."""
    code = "".join(show(cell).split())
    if _DESA_SHAPE.fullmatch(code):
        info = region_info(code)
        if info is None or info.level != RegionLevel.DESA:
            raise BadValue(f'"{code}" bukan kode desa/kelurahan pada daftar resmi Kemendagri')
        return code
    if _REGION_SHAPE.fullmatch(code):
        level = _LEVEL_NAMES[code.count(".") + 1]
        raise BadValue(f'"{code}" adalah kode {level}, bukan kode desa/kelurahan (contoh 35.26.01.2001)')
    raise BadValue(f'"{show(cell)}" bukan kode desa/kelurahan (format 35.26.01.2001)')
