"""``python -m siaga_devstack up|down|status|env|run``.

up      install what is missing, start what is not running, wait until both servers are ready
down    stop the services and servers the devstack started (by pidfile), nothing else
status  show each server's endpoint, pid and readiness (and each broker of a SIAGA_KAFKA_BROKERS=3 cluster)
env     print KAFKA_BOOTSTRAP_SERVERS=... and MONGODB_URL=... for `eval "$(... env)"`
run     `up`, then the services with demo traffic (make run)
"""

from __future__ import annotations

import argparse
import sys
import time

from . import SERVERS, DevstackError, KafkaCluster, Stack


def _up(stack: Stack) -> None:
    started = time.monotonic()
    e = stack.up()
    kafka_local = f"local Kafka, log {stack.kafka.log}"
    mongo_local = f"local FerretDB, log {stack.ferretdb.log}"
    print(
        f"kafka     {e.kafka_bootstrap}  ({'external: KAFKA_BOOTSTRAP_SERVERS' if e.kafka_external else kafka_local})"
    )
    print(f"mongodb   {e.mongodb_url}  ({'external: MONGODB_URL' if e.mongodb_external else mongo_local})")
    print(f"ready in {time.monotonic() - started:.1f}s")


def _status(stack: Stack) -> int:
    code = 0
    for s in stack.status():
        if s.external:
            state = "external (from the environment; not managed here)"
        elif s.pid:
            state = f"running (pid {s.pid}), {'ready' if s.ready else 'NOT ready'}, log {s.log}"
            code |= 0 if s.ready else 1
        else:
            state = "stopped"
            code = 1
        print(f"{s.name:9} {s.endpoint:28} {state}")
    if isinstance(stack.kafka, KafkaCluster) and not stack.endpoints().kafka_external:
        health = stack.kafka.health()
        for node, pid in zip(stack.kafka.nodes, stack.kafka.pids(), strict=True):
            live = "live" if node.node_id in health.live else "NOT live"
            state = f"running (pid {pid}), {live}" if pid else "stopped"
            print(f"  broker {node.index} {node.bootstrap:26} {state}, log {node.log}")
        lagging = len(health.under_replicated)
        print(
            f"  {health.partitions} partitions, {lagging} under-replicated"
            + (f" ({health.error})" if health.error else "")
        )
        code |= 0 if health.settled(stack.kafka.node_ids) else 1
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m siaga_devstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "run"])
    parser.add_argument("servers", nargs="*", metavar="kafka|ferretdb", help="down: only these servers")
    args = parser.parse_args(argv)
    if unknown := [name for name in args.servers if name not in SERVERS]:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    try:
        stack = Stack()
        if args.command == "up":
            _up(stack)
        elif args.command == "down":
            from .run import stop_services

            stopped = [] if args.servers else stop_services(stack)
            stopped += stack.down(args.servers or SERVERS)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing of ours was running"))
        elif args.command == "status":
            return _status(stack)
        elif args.command == "env":
            e = stack.endpoints()
            print(f"KAFKA_BOOTSTRAP_SERVERS={e.kafka_bootstrap}")
            print(f"MONGODB_URL={e.mongodb_url}")
        else:
            from .run import run

            return run(stack)
    except DevstackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
