"""The national benchmark's evidence: py-spy summaries, pprof rows and the report built from them."""

from __future__ import annotations

import json
from pathlib import Path

from bench.national.profiling import _pprof_rows, categorise, summarise_collapsed
from bench.national.report import cost_per_unit, write_results
from bench.national.targets import limits, targets

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


def _run(fraction: float, tps: int, cpu_logistics: float) -> dict[str, object]:
    return {
        "fraction": fraction,
        "machine": {"cpus": 2, "python": "3.11.7", "load": [1.0, 1.0, 1.0]},
        "sample": {"tps": tps, "rows": tps},
        "import": {"tps_per_s": 6000, "wall_s": 100.0, "caught_up_after_s": 10.0},
        "distribution": {"records": 3 * tps, "logistics_events_per_s": 2500, "wall_s": 600.0},
        "replay": {"events": 4 * tps, "events_per_s": 4000, "seconds": 400.0},
        "latency": {"latency_ms": {"p50": 30.0, "p95": 80.0, "p99": 450.0, "max": 470.0, "n": 10}},
        "peak_rss_mb": {"logistics": 300, "notifications": 120},
        "cpu_by_phase": [
            {"phase": "import", "wall_s": 100.0, "cores": {"logistics": 0.5}, "cpu_s": {"logistics": 50.0}},
            {
                "phase": "distribution",
                "wall_s": 600.0,
                "cores": {"logistics": 0.9, "ferretdb": 0.5},
                "cpu_s": {"logistics": cpu_logistics, "ferretdb": 300.0},
            },
        ],
        "profiles": {},
        "series": [],
    }


def test_cost_per_unit_divides_each_phase_cpu_by_its_units() -> None:
    cost = cost_per_unit(_run(0.5, 410_000, 540.0))
    assert cost["import"] == {"logistics": round(1e6 * 50 / 410_000, 1)}
    assert cost["distribution"]["ferretdb"] == round(1e6 * 300 / 1_230_000, 1)
    assert "replay" not in cost  # no CPU was read for it


def test_targets_are_judged_on_the_run_figures() -> None:
    met = targets(_run(1.0, 820_161, 540.0))
    assert met["import >= 5,000 TPS/s"][0] is True
    assert met["logistics >= 2,000 events/s"][0] is True
    assert met["notifications replay >= 5,000 events/s"] == (False, "4,000 events/s")
    assert met["alert latency p99 < 1 s at 500 scans/s"][0] is True
    assert met["whole run < 45 min"] == (True, "18.5 min")  # 100 + 10 + 600 + 400 s


def test_logistics_is_judged_on_its_rate_until_it_had_also_consumed_its_own_events() -> None:
    run = _run(1.0, 820_161, 540.0)
    dist = run["distribution"]
    assert isinstance(dist, dict)
    dist["logistics_scans_per_s_caught_up"] = 1500  # scans applied at 2,500/s, their rollups later
    assert targets(run)["logistics >= 2,000 events/s"] == (False, "1,500 scans/s, caught up")


def test_the_report_has_the_scaling_table_with_ratios(tmp_path: Path) -> None:
    (tmp_path / "national-0.01.json").write_text(json.dumps(_run(0.01, 8_000, 10.0)))
    (tmp_path / "national-1.0.json").write_text(json.dumps(_run(1.0, 800_000, 1500.0)))
    write_results(tmp_path)
    md = (tmp_path / "national.md").read_text()
    # 10 s over 24,000 scans is 417 µs a scan; 1,500 s over 2,400,000 is 625 µs: 1.5 times as much
    assert "| distribution (per scan applied) | 0.01 | 417 |" in md
    assert "| distribution (per scan applied) | 1.0 | 625 (×1.50) |" in md
    assert "| notifications replay >= 5,000 events/s | 4,000 events/s | MISSED |" in md
    assert (tmp_path / "national.png").stat().st_size > 0


def test_each_missed_target_is_explained_from_the_run_readings() -> None:
    run = _run(1.0, 820_161, 540.0)
    run["peak_rss_mb"] = {"logistics": 700, "notifications": 120}
    run["distribution"]["shipment_store"] = {"decoded": 90, "packed": 10, "miss": 0, "reads": 0}  # type: ignore[index]
    run["profiles"] = {
        "distribution": {
            "logistics": {
                "samples": 100,
                "self_share": {"idle: waiting on sockets": 0.2, "pydantic validation": 0.5, "json": 0.3},
                "siaga_inclusive_share": [
                    ["main (siaga_logistics/cli.py)", 0.99],
                    ["handle (siaga_runtime/subscriptions.py)", 0.7],
                    ["process (siaga_runtime/consumer.py)", 0.69],
                    ["decide (siaga_logistics/handlers/inbound.py)", 0.4],
                ],
            }
        }
    }
    run["distribution"]["logistics_events_per_s"] = 1500  # type: ignore[index]
    run["distribution"]["logistics_memory"] = {  # type: ignore[index]
        "cache_mb:shipments/packed": 230.0,
        "cache_mb:shipments/decoded": 160.4,
        "gc_s:gen0": 3.0,
    }
    why = limits(run)
    assert set(why) == {
        "logistics >= 2,000 events/s",
        "notifications replay >= 5,000 events/s",
        "peak RSS < 500 MB per service",
    }
    dist = why["logistics >= 2,000 events/s"]
    assert "logistics 0.90 of them (ferretdb 0.50)" in dist
    assert "50% in pydantic validation, 30% in json" in dist and "20% waiting" in dist
    # the wrapper's callee at nearly the same share is left out; the outer frames of every sample too
    assert (
        "`handle (siaga_runtime/subscriptions.py)` 70%, `decide (siaga_logistics/handlers/inbound.py)` 40%"
        in dist
    )
    assert "main (" not in dist
    assert why["notifications replay >= 5,000 events/s"] == "no CPU reading of the replay phase"
    assert why["peak RSS < 500 MB per service"].startswith("logistics peaked at 700 MB: its shipment cache")
    assert "of 100 lookups during the distribution 0 went to FerretDB" in why["peak RSS < 500 MB per service"]
    assert (
        "its caches held 390 MB by their own accounting (shipments/packed 230, shipments/decoded 160)"
        in (why["peak RSS < 500 MB per service"])
    )
