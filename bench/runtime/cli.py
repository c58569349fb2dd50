"""The command line of the runtime benchmark (and of its workers, started by ``orchestrate.run_worker``)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from .common import RESULTS
from .orchestrate import orchestrate
from .paths import WORKERS
from .profiling import recategorise
from .report import analyse, render_markdown

_DESCRIPTION = "Runtime benchmark: the Siaga batch path against a naive FastStream handler and raw aiokafka."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench runtime", description=_DESCRIPTION)
    p.add_argument("--events", type=int, default=50_000, help="records per path (duplicates included)")
    p.add_argument("--quick", action="store_true", help="10,000 events, shorter budgets")
    p.add_argument("--naive-budget-s", type=float, default=45.0)
    p.add_argument("--runtime-budget-s", type=float, default=300.0)
    p.add_argument("--profile-events", type=int, default=3_000)
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--paths", default="runtime,naive,raw")
    p.add_argument("--results-dir", default=str(RESULTS))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep-data", action="store_true", help="keep the benchmark databases")
    p.add_argument("--render", action="store_true", help="only re-render runtime.md from runtime.json")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 10_000)
        args.naive_budget_s = min(args.naive_budget_s, 20.0)
        args.profile_events = min(args.profile_events, 2_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        spec = json.loads(Path(args.spec).read_text())
        result = asyncio.run(WORKERS[args.worker](spec))
        Path(args.out).write_text(json.dumps(result, default=str))
        return 0
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.render:
        report = json.loads((out_dir / "runtime.json").read_text())
        recategorise(report.get("profile") or {})
        report["analysis"] = analyse(report)
        (out_dir / "runtime.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (out_dir / "runtime.md").write_text(render_markdown(report))
        return 0
    report = asyncio.run(orchestrate(args))
    (out_dir / "runtime.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out_dir / "runtime.md").write_text(render_markdown(report))
    print(f"wrote {out_dir / 'runtime.json'} and {out_dir / 'runtime.md'}", flush=True)
    for line in report["analysis"]:
        print(" -", line, flush=True)
    return 0
