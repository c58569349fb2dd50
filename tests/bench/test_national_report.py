"""The national benchmark's evidence: py-spy summaries, pprof rows and the report built from them."""

from __future__ import annotations

import json
from pathlib import Path

from bench.national.profiling import _pprof_rows, categorise, summarise_collapsed
from bench.national.report import write_results

COLLAPSED = """\
thread (0x7F01) "MainThread";<module> (siaga_logistics/__main__.py:19);select (selectors.py:468) 60
thread (0x7F01) "MainThread";<module> (siaga_logistics/__main__.py:19);BatchPipeline.process (siaga_runtime/consumer.py:150);find_one (pymongo/asynchronous/collection.py:1) 30
thread (0x7F01) "MainThread";<module> (siaga_logistics/__main__.py:19);decode_event (siaga_schemas/codec.py:152);loads (json/__init__.py:346) 10
thread (0x7F02) "asyncio_0";_worker (concurrent/futures/thread.py:81) 500
"""

PPROF = """\
File: siaga-ferretdb
Type: cpu
      flat  flat%   sum%        cum   cum%
     0.47s  3.92%  3.92%      5.30s 44.17%  github.com/FerretDB/FerretDB/internal/handler/sjson.Unmarshal
     0.10s  0.83%  4.75%      2.55s 21.25%  runtime.mallocgc
"""


def test_the_collapsed_stacks_are_summarised_by_where_the_main_thread_was(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text(COLLAPSED)
    summary = summarise_collapsed(path)
    assert summary["samples"] == 100  # the executor thread's 500 idle samples are left out
    assert summary["self_share"] == {
        "idle: waiting on sockets": 0.6,
        "MongoDB driver (pymongo, bson)": 0.3,
        "json": 0.1,
    }
    heaviest = dict(summary["siaga_inclusive_share"])
    assert heaviest["BatchPipeline.process (siaga_runtime/consumer.py)"] == 0.3
    assert heaviest["<module> (siaga_logistics/__main__.py)"] == 1.0


def test_frames_fall_into_categories_by_their_file() -> None:
    assert categorise("EpollSelector.select (selectors.py:468)") == "idle: waiting on sockets"
    assert categorise("Envelope.wrap (siaga_schemas/envelope.py:10)") == "Siaga contracts (siaga_schemas)"
    assert categorise("validate_python (pydantic/type_adapter.py:1)").startswith("pydantic")
    assert categorise("<listcomp> (<frozen abc>:1)") == "other (interpreter, stdlib)"


def test_pprof_top_rows_are_parsed() -> None:
    rows = _pprof_rows(PPROF)
    assert rows == [
        {
            "flat_pct": "3.92%",
            "cum_pct": "44.17%",
            "function": "github.com/FerretDB/FerretDB/internal/handler/sjson.Unmarshal",
        },
        {"flat_pct": "0.83%", "cum_pct": "21.25%", "function": "runtime.mallocgc"},
    ]


def test_the_report_states_each_target_and_the_evidence(tmp_path: Path) -> None:
    latency = {"p50": 30.0, "p95": 80.0, "p99": 450.0, "max": 470.0, "n": 10}
    result = {
        "started_at": "2026-12-01T00:00:00+00:00",
        "finished_at": "2026-12-01T00:10:00+00:00",
        "machine": {"cpus": 2, "python": "3.11.7", "load": [1.0, 1.0, 1.0]},
        "national": {"provinces": 38, "kab_kota": 514, "kecamatan": 7285, "villages": 83762, "tps": 820161},
        "sample": {
            "fraction": 0.5,
            "provinces": 38,
            "kab_kota": 300,
            "kecamatan": 3000,
            "villages": 40000,
            "tps": 410000,
        },
        "setup": {"shipments": 410000, "seconds": 100.0},
        "phase_a": {
            "records": 1000,
            "logistics_events_per_s": 25000,
            "notifications_events": 10,
            "notifications_s": 1.0,
        },
        "phase_b": {
            "target_rate_per_s": 1000,
            "background_rate_per_s": 1000,
            "latency_ms": latency,
            "delayed_shipments": 10,
            "shipment_delayed_emitted": 10,
            "notified": 10,
        },
        "phase_c": {
            "events": 100,
            "events_timed": 90,
            "seconds_applying": 700.0,
            "events_per_s": 21000,
            "national_events_estimate": 30_000_000,
        },
        "cpu_by_phase": [{"phase": "phase A", "wall_s": 10.0, "cores": {"ferretdb": 0.9, "logistics": 0.3}}],
        "profiles": {
            "logistics": {
                "samples": 100,
                "self_share": {"json": 0.1},
                "siaga_inclusive_share": [["f (siaga_runtime/x.py)", 0.5]],
            }
        },
        "ferretdb_profile": {
            "file": "f.pb.gz",
            "cum": [{"cum_pct": "44%", "flat_pct": "4%", "function": "g"}],
        },
        "series": [],
    }
    write_results(result, tmp_path, 820161)
    md = (tmp_path / "national.md").read_text()
    assert "alert latency p99 < 500 ms at 1,000 ev/s: met" in md
    assert "logistics >= 20,000 ev/s: met" in md and "notifications >= 20,000 ev/s: met" in md
    assert "national replay < 20 min (extrapolated): MISSED" in md  # 30 M / 21,000/s: 24 min
    assert "| phase A | 10.0 | 0.9 | 0.3 |" in md
    assert "| 44% | 4% | `g` |" in md
    saved = json.loads((tmp_path / "national.json").read_text())
    assert saved["targets_met"]["alert latency p99 < 500 ms at 1,000 ev/s"] is True
