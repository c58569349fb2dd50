"""Readiness pages: the drill-down rows (regions at risk first), the province tile map and late shipments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siaga_schemas import region_info
from siaga_schemas.regions import RegionLevel, children

from .places import local_time, region_name

__all__ = [
    "ReadinessRow",
    "ShipmentRow",
    "Tile",
    "drill_rows",
    "province_tiles",
    "region_tiles",
    "risk",
    "shipment_rows",
    "short_rows",
]

# Province tiles on a 15 x 7 grid, west to east, north to south (a cartogram: one tile per province).
_TILE_AT: dict[str, tuple[int, int]] = {
    "11": (0, 0), "12": (1, 1), "14": (2, 1), "21": (3, 1), "13": (1, 2), "15": (2, 2), "17": (2, 3),
    "16": (3, 3), "19": (4, 3), "18": (3, 4), "31": (5, 4), "36": (4, 5), "32": (5, 5), "33": (6, 5),
    "34": (6, 6), "35": (7, 5), "51": (8, 5), "52": (9, 5), "53": (10, 5), "61": (5, 2), "62": (6, 2),
    "65": (7, 1), "64": (7, 2), "63": (7, 3), "76": (8, 2), "73": (8, 3), "75": (9, 1), "71": (10, 1),
    "72": (9, 2), "74": (9, 3), "82": (11, 1), "81": (11, 3), "96": (12, 2), "92": (13, 2), "91": (14, 2),
    "94": (13, 3), "95": (14, 3), "93": (14, 4),
}  # fmt: skip
_SHORT: dict[str, str] = {
    "11": "Aceh", "12": "Sumut", "13": "Sumbar", "14": "Riau", "15": "Jambi", "16": "Sumsel", "17": "Bkl",
    "18": "Lamp", "19": "Babel", "21": "Kepri", "31": "DKI", "32": "Jabar", "33": "Jateng", "34": "DIY",
    "35": "Jatim", "36": "Banten", "51": "Bali", "52": "NTB", "53": "NTT", "61": "Kalbar", "62": "Kalteng",
    "63": "Kalsel", "64": "Kaltim", "65": "Kaltara", "71": "Sulut", "72": "Sulteng", "73": "Sulsel",
    "74": "Sultra", "75": "Gtlo", "76": "Sulbar", "81": "Maluku", "82": "Malut", "91": "Papua",
    "92": "PB", "93": "PS", "94": "PT", "95": "PP", "96": "PBD",
}  # fmt: skip

GRID_COLUMNS, GRID_ROWS = 15, 7


def risk(row: dict[str, Any] | None) -> str:
    """``none`` (no plan), ``behind`` (more than 10 points behind plan), ``near`` (behind), ``ok``."""
    if not row or not row.get("tps_total"):
        return "none"
    gap = float(row.get("planned", 0.0)) - float(row.get("readiness", 0.0))
    if row.get("behind_plan") and gap > 0.10:
        return "behind"
    if row.get("behind_plan"):
        return "near"
    return "ok"


@dataclass(frozen=True)
class ReadinessRow:
    region: str
    name: str
    tps_ready: int
    tps_total: int
    readiness: float
    planned: float
    risk: str
    drillable: bool

    @property
    def gap(self) -> float:
        return max(0.0, self.planned - self.readiness)


_RISK_ORDER = {"behind": 0, "near": 1, "ok": 2, "none": 3}


def drill_rows(subdivisions: list[dict[str, Any]]) -> list[ReadinessRow]:
    """The subdivisions of a readiness answer, regions at risk first (then the largest gap, the lowest share)."""
    rows = []
    for s in subdivisions:
        info = region_info(s["region"])
        rows.append(
            ReadinessRow(
                region=s["region"],
                name=s.get("name") or region_name(s["region"]),
                tps_ready=int(s.get("tps_ready", 0)),
                tps_total=int(s.get("tps_total", 0)),
                readiness=float(s.get("readiness", 0.0)),
                planned=float(s.get("planned", 0.0)),
                risk=risk(s),
                drillable=info is not None and info.level <= RegionLevel.KECAMATAN,
            )
        )
    return sorted(rows, key=lambda r: (_RISK_ORDER[r.risk], -r.gap, r.readiness, r.name))


@dataclass(frozen=True)
class Tile:
    region: str
    label: str
    name: str
    x: int
    y: int
    risk: str
    readiness: float | None


def province_tiles(subdivisions: list[dict[str, Any]]) -> list[Tile]:
    """Every province as a tile, coloured by its row in a national readiness answer (grey: no plan)."""
    by_code = {s["region"]: s for s in subdivisions}
    tiles = []
    for code in children(None):
        x, y = _TILE_AT.get(code, (0, GRID_ROWS - 1))
        row = by_code.get(code)
        tiles.append(
            Tile(
                region=code,
                label=_SHORT.get(code, code),
                name=region_name(code),
                x=x,
                y=y,
                risk=risk(row),
                readiness=float(row["readiness"]) if row and row.get("tps_total") else None,
            )
        )
    return tiles


def region_tiles(region: str, subdivisions: list[dict[str, Any]], columns: int = 12) -> list[Tile]:
    """Every kab/kota of a province (or kecamatan of a kab/kota) as a square, at-risk first, coloured like
    the province map (grey: no plan there)."""
    by_code = {s["region"]: s for s in subdivisions}
    rows = drill_rows([by_code.get(c) or {"region": c} for c in children(region)])
    return [
        Tile(
            region=r.region,
            label="",
            name=r.name,
            x=i % columns,
            y=i // columns,
            risk=r.risk,
            readiness=r.readiness if r.tps_total else None,
        )
        for i, r in enumerate(rows)
    ]


@dataclass(frozen=True)
class ShipmentRow:
    """A late shipment (``severity``: the delay) or a short one (``severity``: the discrepancy's category,
    ``item``: what is missing or damaged)."""

    title: str
    destination: str
    leg: str
    mode: str
    severity: str
    eta: str
    slack_hours: float | None
    status: str
    item: str = ""


def _leg_title(s: dict[str, Any]) -> str:
    origin = s.get("origin") or {}
    dest = s.get("destination") or {}
    o = origin.get("name") or region_name(origin.get("region"))
    d = dest.get("name") or region_name(dest.get("region"))
    return f"{o} → {d}"


_KIND = {"warehouse": "Gudang"}


def _leg_kinds(s: dict[str, Any]) -> str:
    kinds = [str((s.get(end) or {}).get("kind") or "?") for end in ("origin", "destination")]
    return " → ".join(_KIND.get(k, k.upper()) for k in kinds)


def shipment_rows(shipments: list[dict[str, Any]]) -> list[ShipmentRow]:
    """Late shipments as the logistics API lists them (most severe first), with slack to H-1 in hours."""
    out = []
    for s in shipments:
        slack = s.get("slack_seconds")
        out.append(
            _row(
                s,
                severity=str(s.get("delay_severity") or ""),
                at=s.get("eta"),
                slack_s=slack if isinstance(slack, int | float) else None,
                status=str(s.get("status") or ""),
            )
        )
    return out


def _destination(s: dict[str, Any]) -> Any:
    return s.get("destination_region") or (s.get("destination") or {}).get("region")


def _row(
    s: dict[str, Any], *, severity: str, at: Any, slack_s: float | None, status: str, item: str = ""
) -> ShipmentRow:
    """A shipment as the console lists it: its leg by name, its time in the destination's local time."""
    return ShipmentRow(
        title=_leg_title(s),
        destination=region_name(_destination(s)),
        leg=_leg_kinds(s),
        mode=str(s.get("transport_mode") or ""),
        severity=severity,
        eta=local_time(at, _destination(s)),
        slack_hours=round(slack_s / 3600, 1) if slack_s is not None else None,
        status=status,
        item=item,
    )


def short_rows(
    alerts: list[dict[str, Any]], shipments: dict[str, dict[str, Any]], as_of: str | None
) -> list[ShipmentRow]:
    """Shipments delivered short or damaged (open discrepancy alerts), with the time left to H-1 to replace
    what is missing (from the shipment's legal deadline and the services' ``as_of``)."""
    now = datetime.fromisoformat(as_of) if as_of else None
    out = []
    for a in alerts:
        labels = a.get("labels", {})
        s = shipments.get(str(labels.get("shipment_id")))
        if s is None:
            continue
        deadline = s.get("legal_deadline_at")
        slack = (datetime.fromisoformat(deadline) - now).total_seconds() if deadline and now else None
        out.append(
            _row(
                s,
                severity=str(labels.get("category") or "short"),
                at=s.get("delivered_at") or s.get("arrived_at"),
                slack_s=slack,
                status=str(a.get("status") or ""),
                item=str(labels.get("item") or ""),
            )
        )
    return sorted(out, key=lambda r: (r.slack_hours if r.slack_hours is not None else 1e9, r.title))
