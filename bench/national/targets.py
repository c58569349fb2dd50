"""The issue's targets judged against one run of the national benchmark, and for each one missed, what the
run's own readings and profiles show limited it."""

from __future__ import annotations

from typing import Any

__all__ = ["limits", "targets"]


def targets(result: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    """The issue's targets against one run: name → (met, the figure)."""
    imp, dist, rep = result.get("import", {}), result.get("distribution", {}), result.get("replay", {})
    lat = result.get("latency", {}).get("latency_ms", {})
    rss = result.get("peak_rss_mb", {})
    tps_s = imp.get("tps_per_s", 0)
    whole = sum(
        float(x or 0)
        for x in (imp.get("wall_s"), imp.get("caught_up_after_s"), dist.get("wall_s"), rep.get("seconds"))
    )
    p99 = lat.get("p99")
    # sustained: scans over the time until logistics had also consumed the events they caused
    sustained = dist.get("logistics_scans_per_s_caught_up") or dist.get("logistics_events_per_s", 0)
    return {
        "import >= 5,000 TPS/s": (tps_s >= 5000, f"{tps_s:,} TPS/s"),
        "logistics >= 2,000 events/s": (sustained >= 2000, f"{sustained:,} scans/s, caught up"),
        "notifications replay >= 5,000 events/s": (
            rep.get("events_per_s", 0) >= 5000,
            f"{rep.get('events_per_s', 0):,} events/s",
        ),
        "alert latency p99 < 1 s at 500 scans/s": (p99 is not None and p99 < 1000, f"p99 {p99} ms"),
        "whole run < 45 min": (whole < 45 * 60, f"{whole / 60:.1f} min"),
        "peak RSS < 500 MB per service": (bool(rss) and max(rss.values()) < 500, f"{rss} MB"),
    }


# The phase whose run decides each target (None: not one phase's CPU).
_TARGET_PHASE = {
    "import >= 5,000 TPS/s": "import",
    "logistics >= 2,000 events/s": "distribution",
    "notifications replay >= 5,000 events/s": "replay",
}
_IDLE = ("idle", "threads idle")
_OUTER = ("<module>", "main ", "_serve ", "serve ")  # frames every sample of a service passes


def _phase_limit(result: dict[str, Any], phase: str) -> str:
    """Which process was busiest in ``phase``, and where its CPU went by its own profile."""
    cpu = next((p for p in result.get("cpu_by_phase", []) if p["phase"] == phase), None)
    if cpu is None or not cpu.get("cores"):
        return f"no CPU reading of the {phase} phase"
    cores = cpu["cores"]
    busiest = max(cores, key=lambda n: cores[n])
    total = sum(cores.values())
    text = (
        f"the {phase} phase kept {total:.2f} of the 2 cores busy, {busiest} {cores[busiest]:.2f} of them "
        f"("
        + ", ".join(f"{n} {c:.2f}" for n, c in sorted(cores.items(), key=lambda kv: -kv[1]) if n != busiest)
        + ")"
    )
    profile = result.get("profiles", {}).get(phase, {}).get(busiest)
    if profile:
        busy = [(c, v) for c, v in profile["self_share"].items() if not c.startswith(_IDLE)]
        busy.sort(key=lambda kv: -kv[1])
        idle = sum(v for c, v in profile["self_share"].items() if c.startswith(_IDLE))
        frames: list[tuple[str, float]] = []
        for n, v in profile["siaga_inclusive_share"]:  # a wrapper and what it wraps: only the outer one
            if not n.startswith(_OUTER) and (not frames or v < 0.95 * frames[-1][1]):
                frames.append((n, v))
        text += (
            f"; by its py-spy profile {busiest} spent "
            + ", ".join(f"{100 * v:.0f}% in {c}" for c, v in busy[:3])
            + f" and {100 * idle:.0f}% waiting"
        )
        if frames:
            text += "; its heaviest Siaga frames (inclusive): " + ", ".join(
                f"`{n}` {100 * v:.0f}%" for n, v in frames[:4]
            )
    return text


def _logistics_memory(dist: dict[str, Any]) -> str:
    """Logistics' memory is mostly its shipment cache, sized on purpose: what it costs and what it buys."""
    from siaga_logistics.settings import LogisticsSettings

    fields = LogisticsSettings.model_fields
    decoded, packed = fields["shipment_cache_mb"].default, fields["shipment_packed_cache_mb"].default
    st = dist.get("shipment_store") or {}
    lookups = sum(st.get(k, 0) for k in ("decoded", "packed", "miss"))
    text = (
        f"its shipment cache may hold {decoded:.0f} MB of decoded documents (charged at their Python size) "
        f"and {packed:.0f} MB of packed ones (SHIPMENT_CACHE_MB, SHIPMENT_PACKED_CACHE_MB)"
    )
    memory = dist.get("logistics_memory") or {}
    held = {k.split(":", 1)[1]: v for k, v in memory.items() if k.startswith("cache_mb:")}
    if held:
        text += (
            f"; at the end of the distribution its caches held {sum(held.values()):.0f} MB by their own "
            "accounting ("
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(held.items(), key=lambda kv: -kv[1]))
            + ")"
        )
    if lookups:
        text += (
            f", so that of {lookups:,} lookups during the distribution {st.get('miss', 0):,} went to FerretDB "
            f"({st.get('reads', 0):,} documents read): a smaller cache trades memory for a FerretDB read, "
            "which decodes the whole document, per scan"
        )
    return text


def limits(result: dict[str, Any]) -> dict[str, str]:
    """For every target the run missed, what limited it, from the run's own readings and profiles."""
    out: dict[str, str] = {}
    for name, (ok, _) in targets(result).items():
        if ok:
            continue
        if name in _TARGET_PHASE:
            out[name] = _phase_limit(result, _TARGET_PHASE[name])
        elif name.startswith("alert latency"):
            stages = result.get("latency", {}).get("stages_ms", {})
            lat = result.get("latency", {})
            if stages:
                ranked = sorted(stages.items(), key=lambda kv: -float(kv[1].get("p99") or 0))
                out[name] = (
                    f"{lat.get('notified', 0):,} delays were notified during the phase; p99 by stage: "
                    + "; ".join(f"{st} {q.get('p99')} ms" for st, q in ranked)
                )
            else:
                out[name] = "no stage timings in this run"
            cpu = next((p for p in result.get("cpu_by_phase", []) if p["phase"] == "latency"), None)
            if cpu and cpu.get("cores"):
                cores = cpu["cores"]
                out[name] += (
                    f"; the phase kept {sum(cores.values()):.2f} of the 2 cores busy ("
                    + ", ".join(f"{n} {c:.2f}" for n, c in sorted(cores.items(), key=lambda kv: -kv[1]))
                    + ")"
                )
        elif name.startswith("whole run"):
            phases = sorted(result.get("cpu_by_phase", []), key=lambda p: -float(p["wall_s"]))
            out[name] = "by phase: " + ", ".join(f"{p['phase']} {p['wall_s'] / 60:.1f} min" for p in phases)
            if phases:
                out[name] += "; the longest: " + _phase_limit(result, phases[0]["phase"])
        elif name.startswith("peak RSS"):
            rss = result.get("peak_rss_mb", {})
            over = {n: v for n, v in rss.items() if v >= 500}
            out[name] = "; ".join(
                f"{n} peaked at {v} MB: "
                + (
                    _logistics_memory(result.get("distribution", {}))
                    if n == "logistics"
                    else "this run recorded no breakdown of its memory"
                )
                for n, v in over.items()
            )
    return out
