"""``python -m siaga_simulator run|validate SCENARIO.yaml`` against services that are already running.

The services must run on the scenario's clock: start them with the ``CLOCK_START``, ``CLOCK_EPOCH`` and
``CLOCK_FACTOR`` that ``python -m siaga_simulator clock SCENARIO.yaml`` prints, and run the scenario with the
same environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from .actions import DEFAULT_URLS
from .scenario import ScenarioError, load_scenario
from .session import DEFAULT_SCENARIO, clock_from_env, run_scenario, scenario_clock_env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="siaga_simulator", description=__doc__)
    p.add_argument("command", choices=["run", "validate", "clock"])
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    p.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    p.add_argument("--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    for name, url in DEFAULT_URLS.items():
        p.add_argument(f"--{name}", default=os.environ.get(f"SIAGA_{name.upper()}_URL", url))
    p.add_argument("--plain", action="store_true", help="plain lines instead of the live view")
    args = p.parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except (ScenarioError, OSError) as exc:
        print(f"siaga_simulator: {exc}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(
            f"{args.scenario}: {len(scenario.steps)} steps over {scenario.duration}, factor {scenario.factor:g}"
        )
        return 0
    if args.command == "clock":
        for key, value in scenario_clock_env(scenario).items():
            print(f"export {key}={value}")
        return 0
    progress = asyncio.run(
        run_scenario(
            scenario,
            clock=clock_from_env(scenario, dict(os.environ)),
            kafka_bootstrap=args.kafka,
            urls={name: getattr(args, name) for name in DEFAULT_URLS},
            topic_prefix=args.topic_prefix,
            live=sys.stdout.isatty() and not args.plain,
        )
    )
    print(progress.summary)
    return 1 if progress.failed else 0


if __name__ == "__main__":
    sys.exit(main())
