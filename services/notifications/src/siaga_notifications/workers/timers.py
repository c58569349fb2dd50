"""The durable timers: escalation steps, group joins and flushes, and turning decisions into deliveries.

Work is found through the due index (``timers``), by point reads: ``alert:<fingerprint>`` (join the groups
of a fired escalation step; escalate when the step's wait is over) and ``group:<group id>`` (flush when
``group_wait``/``group_interval`` is over). The inbound projection schedules both the moment an event
arrives, and the engine reschedules them for the next due time. Scanning the alerts and groups
collections, which grow with every alert ever raised, is only a safety net run every
``full_scan_interval_s`` (for changes made by hand through the API, or by a replica that died between its
writes). Such a scan grows with the nation, so the due timers are swept between its documents (every
``sweep_every_s``): a new alert is not held up by the safety net.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from siaga_runtime import Clock, Decision, Doc, DueIndex

from ..domain import alerts as alert_rules
from ..domain import groups as group_rules
from ..domain.contacts import Contact
from ..domain.muting import Silence, muted_fingerprints
from ..domain.routing import RoutingConfig
from ..metrics import NotificationMetrics
from ..repository import Stores

log = logging.getLogger(__name__)

CONCURRENCY = 8  # due timers handled at once


class Engine:
    """The timers: escalation steps, group joins and flushes, and turning decisions into deliveries."""

    def __init__(
        self,
        stores: Stores,
        config: RoutingConfig,
        clock: Clock,
        *,
        default_language: str,
        timers: DueIndex | None = None,
        full_scan_interval_s: float = 60.0,
        sweep_every_s: float = 0.5,
        on_deliveries: Callable[[list[Doc]], Awaitable[None]] | None = None,
        metrics: NotificationMetrics | None = None,
    ) -> None:
        self.stores = stores
        self.config = config
        self.clock = clock
        self.default_language = default_language
        self.timers = timers
        self.full_scan_interval_s = full_scan_interval_s
        self.sweep_every_s = sweep_every_s
        self.on_deliveries = on_deliveries
        self.metrics = metrics
        self._last_full_scan: float | None = None
        self._last_sweep = 0.0
        self._batched: list[tuple[str, datetime]] | None = None
        # silences and contacts read once for all the groups a round flushes (None: read per group)
        self._shared: tuple[list[Silence], list[Contact]] | None = None

    async def tick(self) -> None:
        """One round: the due timers, and now and then the full scans (always, without a due index)."""
        mono = time.monotonic()
        if (
            self.timers is None
            or self._last_full_scan is None
            or mono - self._last_full_scan >= self.full_scan_interval_s
        ):
            self._last_full_scan = mono
            await self.scan_alerts()
            await self.flush_due()
        if self.timers is not None:
            await self._sweep()

    async def _sweep(self) -> None:
        assert self.timers is not None
        self._last_sweep = time.monotonic()
        await self.timers.sweep(self._handle_due)

    async def _between(self) -> None:
        """Between two documents of a full scan: the due timers, once ``sweep_every_s`` has passed since
        they were last swept. The scan's own state is kept (a sweep reads and clears ``_shared``)."""
        if self.timers is None or time.monotonic() - self._last_sweep < self.sweep_every_s:
            return
        shared = self._shared
        try:
            await self._sweep()
        finally:
            self._shared = shared

    async def _handle_due(self, ids: list[str]) -> None:
        now = self.clock.now()
        self._batched = []  # the follow-up timers of this bucket, scheduled together (one write per bucket)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(timer: str) -> None:
            kind, _, key = timer.partition(":")
            async with gate:
                if kind == "alert":
                    await self.check_alert(key, now)
                elif kind == "group":
                    await self.flush_group(key, now)

        try:
            if any(timer.startswith("group:") for timer in ids):
                self._shared = await self._silences_and_contacts()
            # each timer is its own document's (guarded writes): they wait on the database side by side
            await asyncio.gather(*(one(timer) for timer in dict.fromkeys(ids)))
            follow_ups, self._batched = self._batched, None
            await self._schedule(follow_ups)
        finally:
            self._batched = None
            self._shared = None

    async def _schedule(self, timers: list[tuple[str, datetime]]) -> None:
        if self._batched is not None:
            self._batched.extend(timers)
        elif self.timers is not None and timers:
            await self.timers.schedule(timers)

    async def check_alert(self, fp: str, now: datetime) -> None:
        """Join what an escalation step queued, escalate when due, and set the timer for the next step."""
        doc = await self.stores.alerts.get(fp)
        if doc is None:
            return
        step_due = (doc.get("esc") or {}).get("next_due_at")
        if doc.get("status") == "firing" and step_due is not None and step_due <= now:
            doc = await self._escalate_one(doc, now) or doc
        if doc.get("pending_joins"):
            await self.join_pending(fp)
        due = (doc.get("esc") or {}).get("next_due_at")
        if doc.get("status") == "firing" and due is not None:
            await self._schedule([(f"alert:{fp}", due)])

    async def _escalate_one(self, d: Doc, now: datetime) -> Doc | None:
        key = f"esc:{d['_id']}:{d['chain_run']}:{d['esc']['seq'] + 1}"
        stored, _ = await self.stores.alerts.mutate(
            d["_id"], lambda doc: alert_rules.escalate(doc, now), idempotency_key=key
        )
        stepped = stored is not None and (stored.get("esc") or {}).get("seq", 0) > d["esc"]["seq"]
        if self.metrics is not None and stepped:
            self.metrics.escalations.inc()
        return stored

    # -- escalation ---------------------------------------------------------------------------------------

    async def scan_alerts(self) -> None:
        """The safety net over every alert, in one pass: escalate those whose step is due, then join what
        their escalation steps queued (also what an escalation in this pass queued)."""
        now = self.clock.now()
        waiting: list[str] = []
        async for d in self.stores.alerts.scan(
            lambda d: d.get("status") == "firing" or bool(d.get("pending_joins"))
        ):
            await self._between()
            due = (d.get("esc") or {}).get("next_due_at")
            if d.get("status") == "firing" and due is not None and due <= now:
                d = await self._escalate_one(d, now) or d
            if d.get("pending_joins"):
                waiting.append(d["_id"])
        for fp in waiting:
            await self._between()
            await self.join_pending(fp)

    async def join_pending(self, fp: str) -> None:
        doc = await self.stores.alerts.get(fp)
        if doc is None:
            return
        now = self.clock.now()
        for spec in list(doc.get("pending_joins", [])):
            entry = f"{doc['chain_run']}:{spec['seq']}"
            await self.stores.groups.mutate(
                spec["group_id"],
                partial(_join, fp=fp, spec=spec, now=now, entry=entry),
                idempotency_key=f"join:{fp}:{doc['chain_run']}:{spec['group_id']}:{spec['seq']}",
            )
            await self._schedule([(f"group:{spec['group_id']}", now)])

            def done(a: Doc | None, spec: dict[str, Any] = spec) -> Decision:
                if a is None:
                    return Decision(state=None)
                rest = [
                    j
                    for j in a.get("pending_joins", [])
                    if (j["group_id"], j["seq"]) != (spec["group_id"], spec["seq"])
                ]
                return Decision(state={**a, "pending_joins": rest})

            await self.stores.alerts.mutate(fp, done)

    # -- groups -------------------------------------------------------------------------------------------

    async def flush_due(self) -> None:
        now = self.clock.now()
        due = self.stores.groups.scan(
            lambda g: (
                bool(g.get("has_pending"))
                or (g.get("next_flush_at") is not None and g["next_flush_at"] <= now)
            )
        )
        gids = []
        async for d in due:
            await self._between()
            gids.append(d["_id"])
        if not gids:
            return
        self._shared = await self._silences_and_contacts()
        try:
            for gid in gids:
                await self._between()
                await self.flush_group(gid, now)
        finally:
            self._shared = None

    async def flush_group(self, gid: str, now: datetime) -> None:
        group = await self.stores.groups.get(gid)
        if group is None:
            return
        nf = group.get("next_flush_at")
        if nf is not None and nf <= now:
            inp = await self._flush_input(group)
            key = f"flush:{gid}:{group.get('flush_seq', 0)}"

            def change(g: Doc | None) -> Decision:
                d = group_rules.flush(g, inp, now)
                if d.state is not None:
                    d.state["has_pending"] = bool(d.state.get("pending_deliveries"))
                return d

            stored, _ = await self.stores.groups.mutate(gid, change, idempotency_key=key)
            group = stored or group
        if group.get("pending_deliveries"):
            await self._materialise(gid, group["pending_deliveries"])
        if group.get("next_flush_at") is not None:
            await self._schedule([(f"group:{gid}", group["next_flush_at"])])

    async def _flush_input(self, group: Doc) -> group_rules.FlushInput:
        members = list(group.get("members", {}))
        # a member whose raise never got stored (only a dedup record is there) is not an alert yet
        alerts = {fp: a for fp, a in (await self.stores.alerts.load_many(members)).items() if "status" in a}
        for a in alerts.values():
            a.setdefault("fingerprint", a["_id"])
        sources: list[dict[str, Any]] = []
        rules = [
            r
            for r in self.config.inhibit_rules
            if any(r.target.matches(a["labels"]) for a in alerts.values())
        ]
        if rules:
            names = sorted({n for r in rules for n in r.source.alertnames})
            only = set(names) if names and all(r.source.alertnames for r in rules) else None
            sources = [
                d
                async for d in self.stores.alerts.scan(
                    lambda d: d.get("status") == "firing" and (only is None or d.get("alertname") in only)
                )
            ]
        silences, contacts = self._shared or await self._silences_and_contacts()
        muted = muted_fingerprints(list(alerts.values()), sources, rules, silences, self.clock.now())
        return group_rules.FlushInput(
            alerts=alerts,
            muted=muted,
            contacts=contacts,
            config=self.config,
            default_language=self.default_language,
            topic_language=self.default_language,
        )

    async def _silences_and_contacts(self) -> tuple[list[Silence], list[Contact]]:
        """Both small collections, read whole. A round of due flushes reads them once: a silence or contact
        changed during the round applies from the next round (a sweep interval later)."""
        silences = [Silence.model_validate(d) async for d in self.stores.silences.scan()]
        contacts = [Contact.model_validate(d) async for d in self.stores.contacts.scan()]
        return silences, contacts

    async def _materialise(self, gid: str, pending: list[dict[str, Any]]) -> None:
        """Create each decided delivery (idempotently, by its deterministic id), then drop it from the group."""
        for d in pending:
            await self.stores.deliveries.mutate(
                d["notification_id"],
                partial(_create, delivery=d),
            )
        if self.on_deliveries is not None:
            await self.on_deliveries(pending)
        done = {d["notification_id"] for d in pending}

        def clear(g: Doc | None) -> Decision:
            if g is None:
                return Decision(state=None)
            rest = [d for d in g.get("pending_deliveries", []) if d["notification_id"] not in done]
            return Decision(state={**g, "pending_deliveries": rest, "has_pending": bool(rest)})

        await self.stores.groups.mutate(gid, clear)


def _join(g: Doc | None, *, fp: str, spec: dict[str, Any], now: datetime, entry: str) -> Decision:
    return group_rules.join(g, fp, spec, now, entry)


def _create(current: Doc | None, *, delivery: dict[str, Any]) -> Decision:
    return Decision(state=delivery) if current is None else Decision(state=None)
