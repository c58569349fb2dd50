"""``python -m siaga_runtime.dlq``: list, inspect and replay dead letters after a fix.

    python -m siaga_runtime.dlq list    siaga.logistics.status-updates.v1.dlt [--reason schema_violation]
    python -m siaga_runtime.dlq show    siaga.logistics.status-updates.v1.dlt --partition 0 --offset 17
    python -m siaga_runtime.dlq replay  siaga.logistics.status-updates.v1.dlt [--reason R] [--offset N] [--dry-run]

Replay re-publishes the original key, value and headers (without the ``dlt.*`` ones) to the source topic
named in the dead letter, so the fixed consumer processes it like any record; consumers deduplicate, so
replaying twice is harmless. Connection settings come from the same environment variables as the services.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from .deadletter import parse_dead_letter_headers
from .settings import RuntimeSettings

__all__ = ["StoredDeadLetter", "read_dead_letters", "replay"]


@dataclass(frozen=True)
class StoredDeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    meta: dict[str, str]
    original_headers: list[tuple[str, bytes]]

    def summary(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "offset": self.offset,
            "key": self.key.decode(errors="replace") if self.key else None,
            "bytes": len(self.value) if self.value is not None else None,
            **{k: self.meta.get(k) for k in ("reason", "error.class", "error.message", "service", "time")},
            "source": f"{self.meta.get('source.topic')}/{self.meta.get('source.partition')}@{self.meta.get('source.offset')}",
        }


async def read_dead_letters(
    settings: RuntimeSettings, topic: str, *, idle_ms: int = 1500
) -> list[StoredDeadLetter]:
    """Everything currently in a dead-letter topic (read without a consumer group, so nothing is committed)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_list(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        **settings.kafka_security_kwargs(),
    )
    await consumer.start()
    letters: list[StoredDeadLetter] = []
    try:
        end = await consumer.end_offsets(list(consumer.assignment()))
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            for records in batch.values():
                for r in records:
                    meta, original = parse_dead_letter_headers(list(r.headers or ()))
                    letters.append(StoredDeadLetter(r.partition, r.offset, r.key, r.value, meta, original))
            positions = {tp: await consumer.position(tp) for tp in consumer.assignment()}
            if all(positions[tp] >= end.get(tp, 0) for tp in positions) or not batch:
                break
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda d: (d.partition, d.offset))


def _select(
    letters: Sequence[StoredDeadLetter], reason: str | None, offset: int | None, partition: int | None
) -> list[StoredDeadLetter]:
    return [
        d
        for d in letters
        if (reason is None or d.meta.get("reason") == reason)
        and (offset is None or d.offset == offset)
        and (partition is None or d.partition == partition)
    ]


async def replay(settings: RuntimeSettings, letters: Sequence[StoredDeadLetter]) -> int:
    """Re-publish dead letters to their source topics; returns how many were sent."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_list(),
        **settings.producer_kwargs(),
        **settings.kafka_security_kwargs(),
    )
    await producer.start()
    try:
        for d in letters:
            source = d.meta.get("source.topic")
            if not source:
                raise ValueError(f"dead letter {d.partition}@{d.offset} names no source topic")
            await producer.send_and_wait(
                source, value=d.value, key=d.key, headers=[*d.original_headers, ("dlt.replayed", b"1")]
            )
    finally:
        await producer.stop()
    return len(letters)


async def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m siaga_runtime.dlq",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["list", "show", "replay"])
    parser.add_argument("topic", help="the dead-letter topic, e.g. siaga.logistics.status-updates.v1.dlt")
    parser.add_argument("--reason")
    parser.add_argument("--offset", type=int)
    parser.add_argument("--partition", type=int)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    settings = RuntimeSettings()
    letters = _select(await read_dead_letters(settings, args.topic), args.reason, args.offset, args.partition)
    if args.command == "list":
        for d in letters:
            print(json.dumps(d.summary(), ensure_ascii=False))
    elif args.command == "show":
        for d in letters:
            print(
                json.dumps(
                    {
                        **d.summary(),
                        "meta": d.meta,
                        "headers": [[k, v.decode(errors="replace")] for k, v in d.original_headers],
                        "value": d.value.decode(errors="replace") if d.value is not None else None,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
    else:
        if args.dry_run:
            print(f"would replay {len(letters)} dead letters")
        else:
            print(f"replayed {await replay(settings, letters)} dead letters")
    return 0


def main() -> None:
    sys.exit(asyncio.run(_main(sys.argv[1:])))


if __name__ == "__main__":
    main()
