"""The chaos run, small and bounded (``make chaos`` runs a larger one): two instances of each service as
real processes, on their own 3-broker KRaft cluster and FerretDB, under the national generator's traffic,
while one instance of each service is killed with SIGKILL and restarted, one broker is stopped and brought
back and FerretDB is restarted, at seeded random times. Then: 0 lost, 0 duplicated at the receiver by
notification id and step, every late shipment's alert firing, every outbox drained, no lag, no dead letter."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.chaos import ChaosConfig, run_chaos, write_report

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]


async def test_faults_under_two_instances_lose_and_double_nothing(tmp_path: Path) -> None:
    # a short state path: FerretDB's Unix socket lives there, and socket paths stop at 107 bytes
    state = Path(tempfile.mkdtemp(prefix="chaos-"))
    config = ChaosConfig(fraction=0.0002, seed=15, window_s=40, settle_s=120, port_base=29400, state=state)
    try:
        result = await run_chaos(config)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    write_report(result, tmp_path)
    v = result["verdict"]
    print(json.dumps(v, indent=2, default=str))  # the figures, with -s
    assert v["faults_failed"] == []
    assert v["faults_injected"] == 5
    kinds = sorted(f["kind"] for f in result["faults"])
    assert kinds == ["broker-restart", "ferretdb-restart", "kill9", "kill9", "kill9"]
    assert result["receiver"]["lost"] == []
    assert v["losses"] == 0
    assert v["duplicates"] == 0
    assert v["notifications"] >= result["traffic"]["late_shipments"] > 0
    assert v["alerts_in_wrong_state"] == 0
    assert v["outbox_journals_left"] == 0
    assert v["consumer_lag_left"] == 0
    assert v["dead_letters"] == 0
    assert result["scans_sent"] == result["traffic"]["scans"]
    # each killed instance came back, and every leased job has exactly one holder at the end
    assert sorted(result["instance_starts"].values()) == [1, 1, 1, 2, 2, 2]
    held = result["leases_held_at_end"]
    assert held["logistics[0]"] + held["logistics[1]"] == 2  # the delay and the risk sweep
    assert held["notifications[0]"] + held["notifications[1]"] == 1
    assert held["meetings[0]"] + held["meetings[1]"] == 1
