"""What each view reads from the services (with the viewer's token) and hands to its template.

Each loader returns the template values of the view's content; the page and the live stream render the
same content partial, so a live update is exactly what a reload would show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from siaga_schemas import region_info
from siaga_schemas.regions import RegionLevel

from ..client import ServiceError
from ..domain.alerts import group_alerts
from ..domain.rakor import items_by_owner, meeting_cards
from ..domain.readiness import (
    GRID_COLUMNS,
    GRID_ROWS,
    drill_rows,
    province_tiles,
    region_tiles,
    shipment_rows,
    short_rows,
)
from ..domain.reports import compliance_groups, rollup_rows
from .common import Context

__all__ = ["LOADERS", "Loader"]

Loader = Callable[[Context, Mapping[str, str]], Awaitable[dict[str, Any]]]


def _valid_region(code: str | None) -> str | None:
    if not code:
        return None
    info = region_info(code.strip())
    return info.code if info is not None and info.level < RegionLevel.DESA else None


def _trail(ctx: Context, region: str | None) -> list[tuple[str | None, str]]:
    """The drill-down path from the viewer's home (the nation for a national viewer) to ``region``."""
    codes: list[str | None] = [None] if ctx.viewer.national else []
    if region:
        parts = region.split(".")
        codes += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out = []
    for code in codes:
        if code is None or ctx.viewer.covers(code):
            info = region_info(code) if code else None
            out.append((code, info.name if info else ctx.t("ready.region") if code else "Indonesia"))
    return out


async def load_readiness(ctx: Context, q: Mapping[str, str]) -> dict[str, Any]:
    services, token = ctx.console.services, ctx.token
    election = q.get("election") or ctx.console.settings.election_id
    region = _valid_region(q.get("region")) or ctx.viewer.region
    if region is not None and not ctx.viewer.covers(region):
        region = ctx.viewer.region
    path = "/readiness" if region is None else f"/readiness/{region}"
    readiness, delayed, discrepancies = await asyncio.gather(
        services.get_or(None, "logistics", path, token, election_id=election),
        services.get_or([], "logistics", "/shipments/delayed", token, within=region),
        services.get_or(
            [], "notifications", "/alerts", token, alertname="shipment-discrepancy", within=region, limit=50
        ),
    )
    open_short = [a for a in discrepancies if a.get("status") != "resolved"][:20]
    ids = sorted({str(a.get("labels", {}).get("shipment_id")) for a in open_short})
    found = await asyncio.gather(*(services.get_or(None, "logistics", f"/shipments/{i}", token) for i in ids))
    short = {i: s for i, s in zip(ids, found, strict=True) if s}
    subs = readiness.get("subdivisions", []) if readiness else []
    info = region_info(region) if region else None
    level = info.level if info is not None else None
    return {
        "view": "readiness",
        "election": election,
        "region": region,
        "level": int(level) if level is not None else 0,
        "trail": _trail(ctx, region),
        "summary": readiness,
        "rows": drill_rows(subs),
        "tiles": province_tiles(subs) if region is None else [],
        "squares": region_tiles(region, subs)
        if region and level is not None and level < RegionLevel.KECAMATAN
        else [],
        "grid": (GRID_COLUMNS, GRID_ROWS),
        "tps": sorted(readiness.get("tps") or [], key=lambda t: (t["ready"], t["tps_id"]))
        if readiness
        else [],
        "shipments": shipment_rows(delayed or []),
        "short": short_rows(open_short, short, readiness.get("as_of") if readiness else None),
        "live_query": {"region": region or "", "election": election},
    }


async def load_reports(ctx: Context, q: Mapping[str, str]) -> dict[str, Any]:
    services, token = ctx.console.services, ctx.token
    schedules: list[dict[str, Any]] = await services.get_or([], "meetings", "/schedules", token)
    chosen = next((s for s in schedules if s["schedule_id"] == q.get("schedule")), None)
    chosen = chosen or (schedules[0] if schedules else None)
    values: dict[str, Any] = {"view": "reports", "schedules": schedules, "schedule": chosen, "groups": []}
    if chosen is None:
        return {**values, "live_query": {}}
    periods = list(chosen.get("recent_periods", []))
    if chosen.get("next_period") and chosen["next_period"] not in periods:
        periods.insert(0, chosen["next_period"])
    period = q.get("period") if q.get("period") in periods else None
    period = period or (
        chosen["recent_periods"][0] if chosen.get("recent_periods") else chosen.get("next_period")
    )
    sid = chosen["schedule_id"]
    compliance, rollup, template = await asyncio.gather(
        services.get_or([], "meetings", f"/schedules/{sid}/compliance", token, period_id=period),
        services.get_or(None, "meetings", f"/schedules/{sid}/rollup", token, period_id=period),
        services.get_or(None, "meetings", f"/templates/{chosen['template_id']}", token),
    )
    labels = {i["key"]: i["label"] for i in (template or {}).get("items", [])}
    groups = compliance_groups(compliance or [])
    return {
        **values,
        "periods": periods,
        "period": period,
        "groups": groups,
        "counts": {g.state: len(g.rows) for g in groups},
        "total": sum(len(g.rows) for g in groups),
        "rollup": rollup,
        "rollup_rows": rollup_rows(rollup, labels) if rollup else [],
        "live_query": {"schedule": sid, "period": period or ""},
    }


async def load_rakor(ctx: Context, q: Mapping[str, str]) -> dict[str, Any]:
    services, token = ctx.console.services, ctx.token
    meetings: list[dict[str, Any]] = await services.get_or([], "meetings", "/meetings", token)
    regions = {ctx.viewer.region} if ctx.viewer.region else {m["organiser"]["region"] for m in meetings}
    found = await asyncio.gather(
        *(services.get_or([], "meetings", "/action-items", token, region=r) for r in sorted(regions) if r)
    )
    items = list({i["action_item_id"]: i for batch in found for i in batch}.values())
    titles = {m["meeting_id"]: m["title"] for m in meetings}
    return {
        "view": "rakor",
        "meetings": meeting_cards(meetings),
        "owners": items_by_owner(items, titles),
        "live_query": {},
    }


async def load_alerts(ctx: Context, q: Mapping[str, str]) -> dict[str, Any]:
    services, token = ctx.console.services, ctx.token
    alerts, deliveries, silences, schedules, meetings = await asyncio.gather(
        services.get_or([], "notifications", "/alerts", token, limit=300),
        services.get_or([], "notifications", "/deliveries", token, limit=1000),
        services.get_or([], "notifications", "/silences", token, active="true"),
        services.get_or([], "meetings", "/schedules", token, periods=0),
        services.get_or([], "meetings", "/meetings", token),
    )
    titles = {s["schedule_id"]: s["title"] for s in schedules} | {
        m["meeting_id"]: m["title"] for m in meetings
    }
    open_alerts = [a for a in alerts if a.get("status") != "resolved"]
    resolved = [a for a in alerts if a.get("status") == "resolved"][:10]
    return {
        "view": "alerts",
        "groups": group_alerts(open_alerts, deliveries, ctx.viewer, ctx.lang, titles),
        "resolved": group_alerts(resolved, deliveries, ctx.viewer, ctx.lang, titles),
        "silences": silences,
        "live_query": {},
    }


LOADERS: dict[str, tuple[Loader, str]] = {
    "readiness": (load_readiness, "_readiness.html"),
    "reports": (load_reports, "_reports.html"),
    "rakor": (load_rakor, "_rakor.html"),
    "alerts": (load_alerts, "_alerts.html"),
}


async def load(ctx: Context, view: str, q: Mapping[str, str]) -> tuple[str, dict[str, Any], list[str]]:
    """The partial and its values; ``problems`` names the services that did not answer."""
    loader, partial = LOADERS[view]
    try:
        return partial, await loader(ctx, q), []
    except ServiceError as exc:
        return partial, {"view": view, "failed": True, "live_query": dict(q)}, [exc.service]
