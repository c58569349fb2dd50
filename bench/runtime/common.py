"""Paths and topic names shared by the runtime benchmark's modules."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


RESULTS = ROOT / "bench" / "results"


STATUS_TOPIC = "siaga.logistics.status-updates.v1"


EVENTS_TOPIC = "siaga.logistics.events.v1"


PARTITIONS = 12  # as LOGISTICS_STATUS_UPDATES
