"""``python -m siaga_devstack up|down|status|env|run``."""

from __future__ import annotations

import argparse
import sys
import time

from . import DevstackError, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m siaga_devstack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "env", "run"])
    args = parser.parse_args(argv)
    stack = Stack()
    try:
        if args.command == "up":
            started = time.monotonic()
            e = stack.up()
            print(
                f"kafka    {e.kafka_bootstrap} ({'external' if e.kafka_external else 'local, log ' + str(stack.paths.log('kafka'))})"
            )
            print(
                f"mongodb  {e.mongodb_url} ({'external' if e.mongodb_external else 'local FerretDB, log ' + str(stack.paths.log('ferretdb'))})"
            )
            print(f"ready in {time.monotonic() - started:.1f}s")
        elif args.command == "down":
            from .run import stop_services

            stopped = stop_services(stack) + stack.down()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.command == "status":
            for name, server in (("kafka", stack.kafka), ("ferretdb", stack.ferretdb)):
                pid = server.running()
                state = f"running (pid {pid}), ready={server.ready()}" if pid else "stopped"
                print(f"{name:9}{state}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
