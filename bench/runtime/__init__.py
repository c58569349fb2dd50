"""Runtime benchmark: the Siaga batch path against a naive FastStream handler and raw aiokafka, in one run.

Run ``make bench`` or ``uv run python -m bench runtime [--events N | --quick]``. For each path a fresh
topic (unique prefix per run) is filled with the same pre-produced stream of ShipmentStatusReported
envelopes, then the path runs in its own subprocess (so peak RSS is per path):

1. ``runtime``: a real ``ServiceRuntime`` with one store and one ``Projection`` (status reducer), its batch
   subscriber, idempotent bulk apply, outbox relay and offset commit; timed from the first batch handed to
   the pipeline until every record is applied or skipped as a duplicate AND every outbox event is published.
2. ``naive``: a FastStream per-message subscriber (``AckPolicy.ACK``, FastStream's default INFO logging)
   doing the same document write per message (load by ``_id``, reducer, version-guarded replace with the
   dedup id, emitted events published directly). It runs for a fixed time budget and reports its rate.
3. ``raw``: aiokafka ``getmany`` over the same topic, no decoding, no persistence.

Then a shorter profiled run of path 1 (pyinstrument) and a probe of the MongoDB-wire server's operation
costs at the collection size path 1 reached explain where the time goes. Results: ``runtime.json``,
``runtime.md`` and ``runtime_profile.txt`` in ``bench/results/`` (or ``--results-dir``).
"""

from .cli import main

__all__ = ["main"]
