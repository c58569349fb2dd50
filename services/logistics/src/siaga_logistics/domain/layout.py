"""Where each plan leg lives: shipment ids, leg ids and the documents that hold them.

Every leg of a distribution plan is a shipment from the moment the plan exists, with an id derived from
the plan and the leg: ``<plan id>:<leg id>``. Leg ids name the destination, as KPU's own numbering does:

- ``ppk-<kecamatan>``: kab/kota warehouse → PPK,
- ``pps-<desa>``: PPK → PPS,
- ``tps-<desa>-<nnn>``: PPS (or the warehouse) → TPS number ``nnn`` of that desa/kelurahan.

Legs are stored in bounded documents of the ``shipments`` collection, so that one event never rewrites
more than a few kilobytes and the legs a PPS sends out together are written together:

- ``k:<plan id>:<kecamatan>``: the PPK leg;
- ``c:<plan id>:<desa>:<k>``: chunk ``k`` of a desa: TPS legs ``16k+1`` to ``16k+16`` with their TPS
  readiness, and in chunk 0 the desa's PPS leg. A desa has at most 999 TPS, so at most 63 chunks, and a
  chunk at most 17 legs;
- ``s:<shipment id>``: a shipment created on its own through the API (a second truck, a replacement
  after a shortage), outside the plan's legs.

The mapping is a pure function of the shipment id, so an inbound scan is routed without a lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CHUNK_TPS",
    "DocKind",
    "LegRef",
    "chunk_doc_id",
    "chunk_of",
    "kec_doc_id",
    "leg_ref",
    "plan_id_for",
    "shipment_id",
    "standalone_doc_id",
    "tps_leg_id",
]

CHUNK_TPS = 16
MAX_TPS_NUMBER = 999

_DESA = r"\d{2}\.\d{2}\.\d{2}\.\d{4}"
_KEC = r"\d{2}\.\d{2}\.\d{2}"
_LEG = re.compile(
    rf"^(?:(?P<ppk>ppk-(?P<kec>{_KEC}))|(?P<pps>pps-(?P<pdesa>{_DESA}))|(?P<tps>tps-(?P<tdesa>{_DESA})-(?P<n>\d{{3}})))$"
)


class DocKind(StrEnum):
    KECAMATAN = "k"
    CHUNK = "c"
    STANDALONE = "s"


@dataclass(frozen=True, slots=True)
class LegRef:
    """What a shipment id says about where its state is kept."""

    shipment_id: str
    doc_id: str
    kind: DocKind
    plan_id: str | None = None
    leg_id: str | None = None
    region: str | None = None  # the destination: kecamatan (PPK leg) or desa (PPS and TPS legs)
    tps_number: int | None = None


def plan_id_for(election_id: str, kab_kota: str) -> str:
    return f"plan-{election_id}-{kab_kota}"


def tps_leg_id(desa: str, number: int) -> str:
    return f"tps-{desa}-{number:03d}"


def shipment_id(plan_id: str, leg_id: str) -> str:
    return f"{plan_id}:{leg_id}"


def chunk_of(tps_number: int) -> int:
    return (tps_number - 1) // CHUNK_TPS


def chunk_doc_id(plan_id: str, desa: str, k: int) -> str:
    return f"c:{plan_id}:{desa}:{k}"


def kec_doc_id(plan_id: str, kecamatan: str) -> str:
    return f"k:{plan_id}:{kecamatan}"


def standalone_doc_id(shipment: str) -> str:
    return f"s:{shipment}"


def parse_leg(leg_id: str) -> tuple[DocKind, str, int | None] | None:
    """``(kind of document, destination region, TPS number)`` of a plan leg id, or None."""
    m = _LEG.match(leg_id)
    if m is None:
        return None
    if m["ppk"]:
        return DocKind.KECAMATAN, m["kec"], None
    if m["pps"]:
        return DocKind.CHUNK, m["pdesa"], None
    number = int(m["n"])
    if not 1 <= number <= MAX_TPS_NUMBER:
        return None
    return DocKind.CHUNK, m["tdesa"], number


def leg_ref(shipment: str) -> LegRef:
    """Where the shipment ``shipment`` is kept: a plan leg's document, or its own."""
    plan_id, sep, leg_id = shipment.rpartition(":")
    parsed = parse_leg(leg_id) if sep and plan_id else None
    if parsed is None:
        return LegRef(shipment, standalone_doc_id(shipment), DocKind.STANDALONE)
    kind, region, number = parsed
    if kind is DocKind.KECAMATAN:
        doc = kec_doc_id(plan_id, region)
    else:
        doc = chunk_doc_id(plan_id, region, chunk_of(number) if number is not None else 0)
    return LegRef(shipment, doc, kind, plan_id, leg_id, region, number)
