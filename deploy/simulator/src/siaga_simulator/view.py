"""The live view: events flowing, open alerts, report compliance and logistics readiness.

Everything comes from the public interfaces: the services' outbound topics (a consumer group of its own) and
their HTTP APIs. On a terminal it is a ``rich`` live layout; otherwise it prints plain lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from rich.console import Console, Group
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from siaga_schemas import region_info
from siaga_schemas.topics import LOGISTICS_EVENTS, MEETINGS_EVENTS, NOTIFICATIONS_EVENTS

from .actions import Driver
from .runner import Progress

__all__ = ["Watch", "Watcher"]


@dataclass
class Watch:
    """What the view polls; all optional."""

    token: str = "dev:kemendagri:national:admin"  # noqa: S105 (a local demo token)
    schedule_id: str | None = None
    period_id: str | None = None
    election_id: str | None = None
    readiness_regions: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    events: deque[tuple[str, str, str]] = field(default_factory=lambda: deque(maxlen=14))
    counts: dict[str, int] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    compliance: dict[str, int] = field(default_factory=dict)
    readiness: list[dict[str, Any]] = field(default_factory=list)


def _name(code: str | None) -> str:
    info = region_info(code) if code else None
    return info.name.title() if info else (code or "Nasional")


class Watcher:
    def __init__(self, driver: Driver, watch: Watch, bootstrap: str, topic_prefix: str = "") -> None:
        self.driver = driver
        self.watch = watch
        self.bootstrap = bootstrap
        self.topics = [
            topic_prefix + t.name for t in (MEETINGS_EVENTS, LOGISTICS_EVENTS, NOTIFICATIONS_EVENTS)
        ]
        self.snap = Snapshot()

    async def follow_events(self, plain: bool) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=f"siaga-simulator-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            async for record in consumer:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    event = json.loads(record.value)
                    kind = str(event["type"]).rsplit(".", 1)[-1]
                    data = event.get("data") or {}
                    where = data.get("region") or (data.get("assignee") or {}).get("region") or ""
                    self.snap.counts[kind] = self.snap.counts.get(kind, 0) + 1
                    line = (
                        str(event.get("time", ""))[:19],
                        kind,
                        _name(where) if where else event.get("subject", ""),
                    )
                    self.snap.events.append(line)
                    if plain and kind not in ("tps-supplied", "shipment-planned", "shipment-dispatched"):
                        print(f"event  {line[0]}  {kind:28} {line[2]}", flush=True)
        finally:
            await consumer.stop()

    async def poll(self) -> None:
        d, w = self.driver, self.watch
        with contextlib.suppress(Exception):
            r = await d.call("notifications", "GET", "/alerts?limit=200", w.token)
            if r.status_code == 200:
                self.snap.alerts = [a for a in r.json() if a["status"] != "resolved"]
        if w.schedule_id and w.period_id:
            with contextlib.suppress(Exception):
                r = await d.call(
                    "meetings",
                    "GET",
                    f"/schedules/{w.schedule_id}/compliance?period_id={w.period_id}",
                    w.token,
                )
                if r.status_code == 200:
                    counts: dict[str, int] = {}
                    for row in r.json():
                        counts[row["state"]] = counts.get(row["state"], 0) + 1
                    self.snap.compliance = counts
        if w.election_id:
            rows = []
            for region in w.readiness_regions:
                with contextlib.suppress(Exception):
                    r = await d.call(
                        "logistics", "GET", f"/readiness/{region}?election_id={w.election_id}", w.token
                    )
                    if r.status_code == 200:
                        body = r.json()
                        rows.append(body)
                        rows.extend(body.get("subdivisions", []))
            self.snap.readiness = rows

    def render(self, progress: Progress) -> Layout:
        s = self.snap
        head = Table.grid(expand=True)
        head.add_row(
            f"[b]{progress.scenario.name}[/b]",
            f"waktu skenario {progress.clock.now().astimezone(progress.scenario.start.tzinfo):%a %d %b %Y %H:%M}",
            f"langkah {progress.done}/{len(progress.scenario.steps)}"
            + (f", gagal {progress.failed}" if progress.failed else ""),
        )
        steps = Table(show_header=False, box=None, expand=True)
        for at, text in list(progress.lines)[-6:]:
            steps.add_row(f"{at:%d %b %H:%M}", text[:150])
        events = Table("waktu", "peristiwa", "wilayah", expand=True, box=None)
        for row in list(s.events)[-12:]:
            events.add_row(*row)
        alerts = Table("status", "sev", "alert", "wilayah", "langkah", expand=True, box=None)
        for a in s.alerts[:12]:
            style = "red" if a["status"] == "firing" else "yellow"
            alerts.add_row(
                f"[{style}]{a['status']}[/{style}]",
                a["severity"],
                a["alertname"],
                _name(a.get("region")),
                str((a.get("esc") or {}).get("step", "-")),
            )
        compliance = Table("keadaan", "kab/kota", box=None)
        for state, n in sorted(s.compliance.items()):
            compliance.add_row(state, str(n))
        readiness = Table("wilayah", "TPS siap", "rencana", box=None)
        for reading in s.readiness[:10]:
            mark = " [red]tertinggal[/red]" if reading.get("behind_plan") else ""
            ready, total = reading.get("tps_ready", 0), reading.get("tps_total", 0)
            readiness.add_row(
                str(reading.get("name") or reading.get("region")).title(),
                f"{ready}/{total} ({100 * reading.get('readiness', 0):.0f}%)",
                f"{100 * reading.get('planned', 0):.0f}%{mark}",
            )
        layout = Layout()
        layout.split_column(
            Layout(Panel(Group(head, f"[dim]{progress.current}[/dim]", steps), title="Siaga"), size=11),
            Layout(name="mid"),
            Layout(name="low", size=14),
        )
        layout["mid"].split_row(
            Layout(Panel(events, title=f"Peristiwa ({sum(s.counts.values())})")),
            Layout(Panel(alerts, title=f"Alert terbuka ({len(s.alerts)})")),
        )
        layout["low"].split_row(
            Layout(Panel(compliance, title="Laporan kab/kota (periode ini)")),
            Layout(Panel(readiness, title="Kesiapan logistik")),
        )
        return layout

    async def show(self, progress: Progress, *, live: bool) -> None:
        """Until the scenario finishes (and a little after), refresh the view twice a second."""
        console = Console()
        follower = asyncio.create_task(self.follow_events(not live))
        try:
            if live:
                with Live(self.render(progress), console=console, refresh_per_second=2, screen=False) as view:
                    while not progress.finished:
                        await self.poll()
                        view.update(self.render(progress))
                        await asyncio.sleep(0.5)
                    await self.poll()
                    view.update(self.render(progress))
            else:
                printed = 0
                while not progress.finished:
                    lines = list(progress.log)
                    for at, text in lines[printed:]:
                        print(f"step   {at:%Y-%m-%d %H:%M}  {text}", flush=True)
                    printed = len(lines)
                    await asyncio.sleep(0.5)
                await self.poll()
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower

    def summary(self) -> str:
        s = self.snap
        firing = sum(1 for a in s.alerts if a["status"] == "firing")
        acked = sum(1 for a in s.alerts if a["status"] == "acknowledged")
        events = ", ".join(f"{k} {n}" for k, n in sorted(s.counts.items()))
        return (
            f"summary: events seen: {events or 'none'}; open alerts: {firing} firing, {acked} acknowledged; "
            f"report compliance: {s.compliance or 'n/a'}"
        )
