"""``national.md`` and ``national.png`` from every ``national-<fraction>.json`` in the results folder: the
scaling table (cost per unit at each size), the targets of the largest run (judged and explained in
``targets``), and its evidence (CPU per process and phase, py-spy and FerretDB profiles)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from .targets import limits, targets

__all__ = ["cost_per_unit", "write_results"]

NATIONAL_TPS = 820_161
PROCESSES = ("logistics", "notifications", "replay", "ferretdb", "kafka")
# phase → (what one unit is, where its count is in the result)
UNITS = {
    "import": ("TPS imported", ("sample", "tps")),
    "distribution": ("scan applied", ("distribution", "records")),
    "replay": ("event replayed", ("replay", "events")),
}


def _get(result: dict[str, Any], path: tuple[str, str]) -> float:
    return float(result.get(path[0], {}).get(path[1]) or 0)


def cost_per_unit(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Phase → process → CPU microseconds per unit of the phase (TPS, scan, replayed event)."""
    out: dict[str, dict[str, float]] = {}
    for phase in result.get("cpu_by_phase", []):
        unit = UNITS.get(phase["phase"])
        if unit is None:
            continue
        n = _get(result, unit[1])
        if n <= 0:
            continue
        out[phase["phase"]] = {
            name: round(1e6 * phase["cpu_s"][name] / n, 1)
            for name in PROCESSES
            if name in phase.get("cpu_s", {})
        }
    return out


def _load(out: Path) -> list[dict[str, Any]]:
    runs = [json.loads(p.read_text()) for p in out.glob("national-*.json")]
    return sorted(runs, key=lambda r: r["fraction"])


def _scaling(runs: list[dict[str, Any]]) -> list[str]:
    base = cost_per_unit(runs[0])
    rows = [
        "| fraction | TPS | import TPS/s | scans | logistics scans/s | replay events/s | alert p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        rows.append(
            f"| {r['fraction']} | {r['sample']['tps']:,} | {r.get('import', {}).get('tps_per_s', 0):,} | "
            f"{r.get('distribution', {}).get('records', 0):,} | "
            f"{r.get('distribution', {}).get('logistics_events_per_s', 0):,} | "
            f"{r.get('replay', {}).get('events_per_s', 0):,} | "
            f"{r.get('latency', {}).get('latency_ms', {}).get('p99')} |"
        )
    rows += ["", "CPU microseconds per unit, per process (× the smallest fraction's cost):", ""]
    rows += [
        "| phase (unit) | fraction | " + " | ".join(PROCESSES) + " |",
        "|---|---:|" + "---:|" * len(PROCESSES),
    ]
    for phase, (unit, _) in UNITS.items():
        for r in runs:
            cost = cost_per_unit(r).get(phase, {})
            cells = []
            for name in PROCESSES:
                v, b = cost.get(name), base.get(phase, {}).get(name)
                ratio = f" (×{v / b:.2f})" if v is not None and b and r is not runs[0] else ""
                cells.append("" if v is None else f"{v:,.0f}{ratio}")
            rows.append(f"| {phase} (per {unit}) | {r['fraction']} | " + " | ".join(cells) + " |")
    return rows


def _run_detail(r: dict[str, Any]) -> list[str]:
    imp, re, dist = r.get("import", {}), r.get("reimport", {}), r.get("distribution", {})
    lat, rep, ready = r.get("latency", {}), r.get("replay", {}), r.get("readiness", {})
    q = lat.get("latency_ms", {})
    e = lat.get("latency_from_eta_ms", {})
    prep = r.get("prepare", {})
    return [
        "| measurement | value |",
        "|---|---:|",
        f"| plan file written (rows, MB, s) | {r['sample']['rows']:,} rows, {prep.get('plan_file_mb')} MB, {prep.get('plan_file_s')} s |",
        f"| import with the CLI: rows accepted / rejected | {imp.get('rows_accepted', 0):,} / {imp.get('rows_rejected', 0):,} in {imp.get('wall_s')} s, its events all published {imp.get('events_out_after_s')} s later ({imp.get('tps_per_s', 0):,} TPS/s over both) |",
        f"| import: plans created, legs planned, events emitted | {imp.get('plans_created')} plans, {imp.get('legs_planned', 0):,} legs, {imp.get('events_emitted', 0):,} events |",
        f"| import: logistics' own projections and notifications caught up | {imp.get('caught_up_after_s')} s later (complete: {imp.get('caught_up')}) |",
        f"| the same file imported again: plans unchanged, events emitted | {re.get('plans_unchanged')} of {imp.get('plans_created')}, {re.get('events_emitted')} events, {re.get('wall_s')} s |",
        f"| distribution scans (dispatched, checkpoint, delivered with proof) | {dist.get('records', 0):,}, produced in {dist.get('produce_s')} s |",
        f"| logistics applied them all | {dist.get('logistics_s')} s ({dist.get('logistics_events_per_s', 0):,} scans/s; complete: {dist.get('logistics_complete')}) |",
        f"| logistics caught up with its own events too (rollups, readiness, timers) | {dist.get('logistics_caught_up_s')} s after the first scan ({dist.get('logistics_scans_per_s_caught_up')} scans/s) |",
        _store_line(dist),
        f"| notifications caught up with the {dist.get('events_emitted', 0):,} events they caused | {dist.get('notifications_caught_up_s')} s after the first scan (complete: {dist.get('notifications_complete')}) |",
        f"| readiness read back (national): TPS ready / total, expected ready | {ready.get('tps_ready', 0):,} / {ready.get('tps_total', 0):,}, expected {ready.get('expected_ready', 0):,} |",
        f"| logistics' own events (rollups, timers) caught up, after the latency phase | {ready.get('own_events_caught_up_after_s')} s |",
        f"| alert latency at {lat.get('target_rate_per_s', 0):,.0f} scans/s ({lat.get('background_rate_per_s', 0):,} produced): delays notified | {lat.get('notified', 0)} of {lat.get('delayed_shipments', 0)} |",
        f"| alert latency, shipment-delayed emitted → webhook: p50 / p95 / p99 / max ms | {q.get('p50')} / {q.get('p95')} / {q.get('p99')} / {q.get('max')} |",
        f"| alert latency, late (ETA passed and checkpoint accepted) → webhook: p50 / p95 / p99 / max ms | {e.get('p50')} / {e.get('p95')} / {e.get('p99')} / {e.get('max')} |",
        f"| replay into a fresh notifications instance | {rep.get('events', 0):,} events in {rep.get('seconds')} s ({rep.get('events_per_s', 0):,}/s; start-up {rep.get('start_s')} s; complete: {rep.get('complete')}) |",
        f"| peak RSS per service (MB) | {r.get('peak_rss_mb')} |",
        f"| whole run | {r.get('elapsed_s')} s |",
    ]


def _evidence(r: dict[str, Any]) -> list[str]:
    out = ["", "CPU per process and phase, in cores (1.0 = one core busy for the whole phase; 2 cores):", ""]
    phases = r.get("cpu_by_phase", [])
    names = sorted({n for p in phases for n in p["cores"]})
    out += ["| phase | wall s | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    out += [
        f"| {p['phase']} | {p['wall_s']} | " + " | ".join(str(p["cores"].get(n, "")) for n in names) + " |"
        for p in phases
    ]
    for phase, profiles in r.get("profiles", {}).items():
        for svc, pr in sorted(profiles.items()):
            cats = sorted(pr["self_share"].items(), key=lambda kv: -kv[1])[:8]
            heavy = pr["siaga_inclusive_share"][:8]
            out += [
                "",
                f"py-spy, {svc} during {phase} ({pr['samples']:,} samples; raw stacks "
                f"`national_profile_{phase}_{svc}.txt.gz`): "
                + "; ".join(f"{c} {100 * s:.0f}%" for c, s in cats),
                "",
                "Heaviest Siaga frames (inclusive): " + "; ".join(f"`{n}` {100 * s:.0f}%" for n, s in heavy),
            ]
    ferret = r.get("ferretdb_profile")
    if ferret:
        out += [
            "",
            f"FerretDB, Go CPU profile during the distribution (`{ferret['file']}`), by cumulative share:",
            "",
            "| cum | flat | function |",
            "|---:|---:|---|",
        ]
        out += [
            f"| {x['cum_pct']} | {x['flat_pct']} | `{x['function']}` |" for x in ferret.get("cum", [])[:15]
        ]
    return out


def _plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    for ax, (phase, (unit, _)) in zip(axes[:2], list(UNITS.items())[:2], strict=True):
        width = 0.8 / max(len(runs), 1)
        for i, r in enumerate(runs):
            cost = cost_per_unit(r).get(phase, {})
            xs = [j + i * width for j in range(len(PROCESSES))]
            ax.bar(xs, [cost.get(n, 0) for n in PROCESSES], width, label=f"fraction {r['fraction']}")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(PROCESSES))], PROCESSES, fontsize=8)
        ax.set_title(f"CPU µs per {unit}")
        ax.legend(fontsize=7)
    biggest = runs[-1]
    series = biggest.get("series", [])
    ax = axes[2]
    for name in ("logistics", "notifications", "replay"):
        pts = [(row["t"], row[f"{name}_applied"]) for row in series if f"{name}_applied" in row]
        rates = [(b[0], (b[1] - a[1]) / max(b[0] - a[0], 1e-9)) for a, b in itertools.pairwise(pts)]
        if rates:
            ax.plot([x for x, _ in rates], [y for _, y in rates], label=name, linewidth=0.8)
    # siaga_events_applied_total counts the events that changed a document: most of what notifications
    # (and its replay) consume is decided from the event alone and changes nothing
    ax.set_title(f"events that changed a document, per s (fraction {biggest['fraction']})", fontsize=10)
    ax.set_xlabel("s since start")
    if ax.get_lines():
        ax.legend(fontsize=7)
    fig.suptitle("Siaga: the nation on one 2-core machine")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_results(out: Path) -> None:
    runs = _load(out)
    if not runs:
        return
    biggest = runs[-1]
    met = targets(biggest)
    lines = [
        "# The nation end to end",
        "",
        f"`python -m bench national --fractions {','.join(str(r['fraction']) for r in runs)}`; "
        f"{biggest['machine']['cpus']} cores, Python {biggest['machine']['python']}. Real Kafka and FerretDB "
        "(devstack); logistics and notifications as their own processes; the plan imported with the CLI, the "
        f"scans produced onto the inbound topic. The nation has {NATIONAL_TPS:,} TPS.",
        "",
        "Settings that differ from the defaults: "
        + (", ".join(f"`{k}={v}`" for k, v in biggest.get("tuned", {}).items()) or "none recorded")
        + ".",
        "",
        "## Scaling",
        "",
        *_scaling(runs),
        "",
        f"## Targets, at the largest fraction run ({biggest['fraction']})",
        "",
        "| target | figure | |",
        "|---|---:|---|",
        *[f"| {k} | {fig} | {'met' if ok else 'MISSED'} |" for k, (ok, fig) in met.items()],
    ]
    missed = limits(biggest)
    if missed:
        lines += ["", "What limited each missed target, from this run's own readings and profiles:", ""]
        lines += [f"- **{k}**: {why}." for k, why in missed.items()]
    for r in reversed(runs):
        lines += ["", f"## Fraction {r['fraction']} ({r['sample']['tps']:,} TPS)", "", *_run_detail(r)]
        lines += _evidence(r)
    (out / "national.md").write_text("\n".join(lines) + "\n")
    _plot(runs, out / "national.png")


def _store_line(dist: dict[str, Any]) -> str:
    """How the scans met the shipment documents: batches, writes, document size and the cache tiers."""
    st = dist.get("shipment_store") or {}
    scans, writes = dist.get("records", 0), st.get("writes", 0)
    lookups = sum(st.get(k, 0) for k in ("decoded", "packed", "miss"))
    if not scans or not writes or not lookups:
        return "| shipment documents during the distribution | not measured |"
    share = {k: f"{100 * st.get(k, 0) / lookups:.0f}%" for k in ("decoded", "packed", "miss")}
    return (
        f"| shipment documents: batches; writes (scans per write); KB per write; cache answered decoded / "
        f"packed / not held | {dist.get('batches', 0):,}; {writes:,} ({scans / writes:.1f}); "
        f"{st.get('written_bytes', 0) / writes / 1024:.1f}; {share['decoded']} / {share['packed']} / {share['miss']} |"
    )
