"""The national feed: every leg of the plan file dispatched, checkpointed and delivered, in waves."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from siaga_schemas.codec import decode_event
from siaga_schemas.events.logistics import ShipmentStatusReported

from bench.national.feed import HEADERS, legs_of_file, read_feed, write_feed

EXAMPLE = Path(__file__).resolve().parents[2] / "services/logistics/examples/rencana-distribusi-contoh.csv"


def test_every_leg_is_scanned_in_waves_and_the_delayed_ones_are_never_delivered(tmp_path: Path) -> None:
    legs = list(legs_of_file(EXAMPLE, "pilkada2024", date(2024, 11, 27)))
    assert {leg.level for leg in legs} >= {"tps"}
    feed = write_feed(legs, tmp_path / "scans.bin", routes=3, delayed_min=2)
    records = list(read_feed(feed.path))
    assert len(records) == feed.records == 3 * len(legs) - len(feed.delayed)
    assert len(feed.delayed) >= 1 and not set(feed.delayed) & set(feed.on_time)
    seen: dict[str, list[str]] = {}
    for key, value in records:
        env = decode_event(value, HEADERS)  # what the logistics consumer does with the record
        assert isinstance(env.data, ShipmentStatusReported) and env.data.shipment_id == key.decode()
        seen.setdefault(env.data.shipment_id, []).append(str(env.data.status))
    assert all(seen[s] == ["dispatched", "checkpoint"] for s in feed.delayed)
    assert all(
        v == ["dispatched", "checkpoint", "delivered"] for s, v in seen.items() if s not in feed.delayed
    )
    levels = [json.loads(v)["data"]["shipment_id"].split(":")[-1].split("-")[0] for _, v in records]
    # waves: no leg of a lower level is scanned before every leg above it has had that wave's scans
    assert levels.index("tps") > max(i for i, lv in enumerate(levels) if lv == "ppk")
