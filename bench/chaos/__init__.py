"""``python -m bench chaos``: faults at seeded random times under two instances of each service (see
``bench.chaos.run``); figures printed and kept in ``bench/results/chaos.{md,json}``."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from .run import ChaosConfig, run_chaos, write_report

__all__ = ["ChaosConfig", "main", "run_chaos", "write_report"]

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench chaos", description=__doc__)
    p.add_argument("--fraction", type=float, default=0.001, help="share of the national TPS (1.0: 820,161)")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--window-s", type=float, default=90.0, help="seconds of traffic during which faults hit")
    p.add_argument("--settle-s", type=float, default=180.0, help="longest wait for delivery and drain after")
    p.add_argument("--port-base", type=int, default=29300)
    p.add_argument("--brokers", type=int, default=3, help="3: a replicated KRaft cluster; 1: one node")
    p.add_argument("--state", default=str(Path(".devstack") / "chaos"))
    p.add_argument("--results-dir", default=str(RESULTS))
    args = p.parse_args(argv)
    config = ChaosConfig(
        fraction=args.fraction,
        seed=args.seed,
        window_s=args.window_s,
        settle_s=args.settle_s,
        port_base=args.port_base,
        brokers=args.brokers,
        state=Path(args.state),
    )
    result = asyncio.run(run_chaos(config))
    write_report(result, Path(args.results_dir))
    print(json.dumps(result["verdict"], indent=2, default=str))
    return 0 if result["verdict"]["ok"] else 1
