"""The runtime benchmark harness runs end to end on a tiny stream against the real servers.

Only the harness is checked (files written, three paths present, counts exact); no timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import Servers

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_runtime_bench_tiny_run(servers: Servers, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap,
        "MONGODB_URL": servers.mongodb_url,
    }
    cmd = [sys.executable, "-m", "bench.runtime", "--events", "300", "--no-profile"]
    cmd += ["--naive-budget-s", "60", "--results-dir", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    report = json.loads((tmp_path / "runtime.json").read_text())
    markdown = (tmp_path / "runtime.md").read_text()
    assert set(report["paths"]) == {"runtime", "naive", "raw"}
    stream = report["stream"]
    assert stream["records"] == 300
    assert stream["distinct_events"] + stream["exact_duplicates"] == 300
    assert stream["exact_duplicates"] > 0

    for name, path in report["paths"].items():
        assert path["events_per_s"] > 0, name
        assert path["peak_rss_mb"] > 0, name
        assert path["completed"], name
        assert path["records_consumed"] == 300, name

    runtime, naive = report["paths"]["runtime"], report["paths"]["naive"]
    assert naive["applied"] == stream["distinct_events"]
    assert naive["duplicates_skipped"] == stream["exact_duplicates"]
    # the runtime recognises a re-send (a new offset) by the document's state: every record is decided once
    # or skipped, and every effect happens exactly once
    assert runtime["applied"] + runtime["duplicates_skipped"] == stream["records"]
    for persisted in (runtime, naive):
        assert persisted["outbox_published"] == stream["delivered_shipments"]
    assert runtime["store_delivered"] == stream["delivered_shipments"]
    assert runtime["store_docs"] == stream["shipments"]
    assert 1 <= runtime["store_marks_max"] <= 12  # one per partition, however many events
    assert runtime["journal_left"] == 0
    assert report["ratio_runtime_over_naive"] > 0
    assert runtime["batch_latency"]["p50_ms"] is not None
    assert naive["message_latency"]["p99_ms"] is not None

    for heading in ("| path |", "1 runtime", "2 naive", "3 raw", "## Analysis"):
        assert heading in markdown
