"""What the numbers say (``analyse``) and ``runtime.md``."""

from __future__ import annotations

from typing import Any


def analyse(report: dict[str, Any]) -> list[str]:
    """Plain sentences on what limits the runtime path, from the phase timers, profile and server probe."""
    out: list[str] = []
    rt = report["paths"].get("runtime")
    if not rt:
        return out
    phases = {k: v["seconds"] for k, v in rt.get("phases", {}).items()}
    total = rt["elapsed_s"] or 1.0
    bulk = phases.get("mongo bulk_write (insert + {_id,_v} replace)", 0.0)
    loads = phases.get("mongo find_one by _id (loads the cache misses, verify)", 0.0)
    decode = phases.get("decode + validate (json + pydantic)", 0.0)
    reducer = phases.get("decide (reducer)", 0.0)
    fetch = phases.get("between batches (Kafka fetch + FastStream + commit)", 0.0)
    applied_after = rt.get("all_applied_after_s")
    out.append(
        f"Runtime path: {rt['events_per_s']:,.0f} events/s ({rt['records_consumed']:,} records in "
        f"{total:.1f}s; {'every record applied and every outbox event published' if rt['completed'] else 'the time budget ran out first'}"
        + (
            f"; all records were applied after {applied_after:.1f}s, the rest was the outbox relay"
            if applied_after
            else ""
        )
        + ")."
    )
    out.append(
        f"Consumer side, summed over {rt.get('batches')} batches: bulk writes {bulk:.1f}s, point loads of the documents "
        f"not in the write cache (find_one by _id, concurrent) {loads:.1f}s, JSON + pydantic decoding {decode:.2f}s, "
        f"the reducer {reducer:.2f}s, waiting for the next batch (Kafka fetch, FastStream, commit) {fetch:.2f}s. The "
        "outbox relay writes no aggregate document (one journal record per batch, deleted once published). "
        f"Python-side work (decode + reducer) is {(decode + reducer) / total:.1%} of the wall time: the path is "
        "bound by the MongoDB-wire server, not by Kafka or by validation."
    )
    probe = report.get("store_operation_costs") or {}
    if "replace_one {_id, _v} ms (store CAS)" in probe:
        out.append(
            f"Server probe on the {probe['collection_docs']:,}-document collection path 1 left (documents spread "
            f"over the table): find_one by _id {probe['find_one {_id} ms']:.1f} ms, replace by _id "
            f"{probe['replace_one {_id} ms']:.1f} ms, update by _id {probe['update_one {_id} $inc ms']:.1f} ms, "
            f"replace by {{_id,_v}} {probe['replace_one {_id, _v} ms (store CAS)']:.1f} ms, update by {{_id,_v}} "
            f"{probe['update_one {_id, _v} $inc ms']:.1f} ms and find $in(50) "
            f"{probe['find {_id: {$in: 50 ids}} ms']:.1f} ms. FerretDB/SQLite pushes down only a bare "
            "{_id: value} filter (the FerretDB front resolves {_id, _v} guards); every other filter scans the "
            "collection, which is why the store reads by _id only."
        )
    prof = report.get("profile") or {}
    cats = prof.get("self_time_by_category") or {}
    if cats:
        top = ", ".join(f"{k} {v['share']:.0%}" for k, v in list(cats.items())[:4])
        out.append(f"pyinstrument (main thread, wall clock) on {prof.get('records'):,} records: {top}.")
    nv = report["paths"].get("naive")
    if nv:
        out.append(
            f"Naive path: {nv['events_per_s']:,.0f} events/s ({nv['records_consumed']:,} records in its "
            f"{nv.get('budget_s', 0):.0f}s budget); per event one pushed-down read, one version-guarded write "
            "(a scan), a direct publish on delivery and FastStream's per-message commit and INFO log lines."
        )
    return out


def fmt(v: Any, spec: str = ",.0f") -> str:
    return "n/a" if v is None else format(v, spec)


def render_markdown(report: dict[str, Any]) -> str:
    m, s, st = report["machine"], report["servers"], report["stream"]
    lines = [
        "# Runtime benchmark",
        "",
        f"Run `{report['run_id']}` on {m['date']}: {m['logical_cores']} logical cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, load average at start {m['load_average_at_start']}. Servers: Kafka "
        f"{s.get('kafka_version', 'unknown')} at {s['kafka_bootstrap']}, FerretDB {s.get('ferretdb_module', s.get('ferretdb_version'))} "
        f"(MongoDB wire {s.get('mongodb_wire_version')}), from {report['servers_from']}. "
        f"Packages: {', '.join(f'{k} {v}' for k, v in m['packages'].items())}.",
        "",
        f"Stream: {st['records']:,} ShipmentStatusReported records ({st['distinct_events']:,} distinct, "
        f"{st['exact_duplicates']:,} exact re-sends, {st['shipments']:,} shipments, {st['mean_record_bytes']:.0f} "
        f"bytes per record on average, {st['partitions']} partitions), produced into a fresh topic per path.",
        "",
        "| path | records | events/s | p50 latency | p99 latency | peak RSS | completed |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {
        "runtime": "1 runtime (batch, validate, bulk apply + dedup, outbox, commit)",
        "naive": "2 naive FastStream per-message (same writes, ACK, INFO logs)",
        "raw": "3 raw aiokafka getmany (no persistence)",
    }
    for key in ("runtime", "naive", "raw"):
        r = report["paths"].get(key)
        if not r:
            continue
        lat = r.get("batch_latency") or r.get("message_latency") or {}
        unit = "batch" if "batch_latency" in r else "message"
        lines.append(
            f"| {names[key]} | {r['records_consumed']:,} | {fmt(r['events_per_s'])} | "
            f"{fmt(lat.get('p50_ms'), ',.1f')} ms / {unit} | {fmt(lat.get('p99_ms'), ',.1f')} ms / {unit} | "
            f"{r['peak_rss_mb']:.0f} MB | {'yes' if r['completed'] else 'no (time budget)'} |"
        )
    ratio = report.get("ratio_runtime_over_naive")
    lines += [
        "",
        f"Ratio runtime / naive: **{fmt(ratio, ',.1f')}×** (target ≥ 10×). Runtime path: "
        f"**{fmt(report['paths'].get('runtime', {}).get('events_per_s'))} events/s** (target ≥ 20,000 with "
        f"persistence and dedup). Targets met: {report.get('targets_met')}.",
        "",
        "The naive path runs for a fixed time budget (it would take far too long to drain the stream); its rate is "
        "records handled / time from its first to its last handled record. Latency is per batch for paths 1 and "
        "3 (pipeline time per consumed batch; getmany time) and per message for path 2 (decode + read + write + "
        "publish inside the handler, excluding FastStream's per-message commit). Peak RSS is the worker "
        "process's, sampled every 20 ms; each path runs in its own process.",
        "",
    ]
    rt = report["paths"].get("runtime")
    if rt:
        lines += [
            "## Where the runtime path spends its time",
            "",
            f"Store check after the run: {rt.get('store_docs')} documents holding at most "
            f"{rt.get('store_marks_max')} dedup marks each (one per partition, however many events), "
            f"{rt.get('store_delivered')} delivered, {rt.get('applied')} events decided (re-sends decided as "
            f"no-ops), {rt.get('duplicates_skipped')} redeliveries skipped, {rt.get('outbox_published')} outbox "
            f"events published ({rt.get('journal_left')} journal records left), {rt.get('batches')} batches of "
            f"{rt.get('batch_size_mean', 0):.0f} records on average.",
            "",
            "| phase (wall time, summed over batches) | seconds | calls |",
            "|---|---:|---:|",
        ]
        for name, v in rt.get("phases", {}).items():
            lines.append(f"| {name} | {v['seconds']:.2f} | {v['calls']} |")
        lines.append("")
    probe = report.get("store_operation_costs") or {}
    if len(probe) > 1:
        lines += ["| MongoDB-wire operation, on the collection path 1 left | ms per call |", "|---|---:|"]
        for k, v in probe.items():
            if k != "collection_docs":
                lines.append(f"| {k} ({probe['collection_docs']} docs) | {v:.1f} |")
        lines.append("")
    prof = report.get("profile")
    if prof:
        lines += [
            f"### Profile (pyinstrument, {prof['records']} records, {fmt(prof['events_per_s_under_profiler'])} events/s under the profiler)",
            "",
            "| category (self time, main thread) | seconds | share |",
            "|---|---:|---:|",
        ]
        for k, v in (prof.get("self_time_by_category") or {}).items():
            lines.append(f"| {k} | {v['seconds']:.2f} | {v['share']:.0%} |")
        lines += ["", "Heaviest frames (inclusive time):", ""]
        for f in prof.get("top_inclusive_frames", [])[:10]:
            lines.append(f"- `{f['function']}` ({f['file']}): {f['seconds']:.2f}s")
        lines += ["", f"Full call tree: `{prof['text_report']}`.", ""]
    lines += ["## Analysis", ""]
    lines += [f"- {a}" for a in report.get("analysis", [])]
    lines += ["", "## Store changes (what was done after the first run, and what is next)", ""]
    lines += [f"{i}. {a}" for i, a in enumerate(PROPOSALS, 1)]
    lines.append("")
    return "\n".join(lines)


PROPOSALS = [
    "Done: documents are stored packed (`_id`, `_v` and one BSON value): FerretDB decodes every stored value "
    "on every read and write, and a packed document has three.",
    "Done: no second write per event: the relay publishes what the store hands it and deletes one journal "
    "record per batch; the next write of a document drops its published entries.",
    "Done: dedup marks are per-partition offsets, not a window of event ids: bounded, and exact however many "
    "events come between a record and its redelivery; a record re-sent under a new offset is a no-op of the "
    "reducer (an older or equal scan changes nothing).",
    "Done: a write-through cache: a document this process wrote is not read again for its next event.",
    "Done: the FerretDB front adds the `_id` index FerretDB's own queries can use and resolves `{_id, _v}` "
    "guards itself, reading `_v` straight from SQLite, under a write gate per database.",
    "Next: a run against MongoDB 7/8 (the compose deployment) to measure the path without FerretDB.",
]
