"""Projections over consumed events: alerts by fingerprint, and their step-0 groups in batches."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from siaga_runtime import Clock, Decision, Doc, DueIndex, Projection, TimerProjection
from siaga_schemas import AnyEnvelope

from ..domain import alerts as alert_rules
from ..domain import groups as group_rules
from ..domain.routing import Route, RoutingConfig
from ..domain.sources import AlertSignal, notice_cleared, signal_for
from ..repository import Stores

log = logging.getLogger(__name__)


def alert_projection(stores: Stores, config: RoutingConfig, clock: Clock) -> Projection[Doc, AnyEnvelope]:
    def route(env: AnyEnvelope) -> str | None:
        sig = signal_for(env)
        return sig.fingerprint if sig else None

    def decide(doc: Doc | None, env: AnyEnvelope) -> Decision:
        sig = signal_for(env)
        assert sig is not None
        return alert_rules.apply_signal(doc, sig, config, clock.now(), env.id)

    return Projection("alerts", stores.alerts, route, decide)


def notice_projection(stores: Stores, config: RoutingConfig, clock: Clock) -> Projection[Doc, AnyEnvelope]:
    """Resolves the informational notice an event makes moot (see ``sources.notice_cleared``)."""

    def route(env: AnyEnvelope) -> str | None:
        sig = notice_cleared(env)
        return sig.fingerprint if sig else None

    def decide(doc: Doc | None, env: AnyEnvelope) -> Decision:
        sig = notice_cleared(env)
        assert sig is not None
        return alert_rules.apply_signal(doc, sig, config, clock.now(), env.id)

    return Projection("notices", stores.alerts, route, decide)


def _step0_join(sig: AlertSignal, config: RoutingConfig, index: int) -> dict[str, Any] | None:
    if sig.kind != "raise":
        return None
    routes = config.routes_for(sig.labels)
    if index >= len(routes):
        return None
    r = routes[index]
    return alert_rules.join_for(r.as_doc(), 0, alert_rules.step0_receivers(r, config), sig.labels)


def group_projections(
    stores: Stores, config: RoutingConfig, clock: Clock, fanout: int
) -> list[Projection[Doc, AnyEnvelope]]:
    """One projection per possible matched route (``continue`` fans an alert out to several groups)."""

    def make(index: int) -> Projection[Doc, AnyEnvelope]:
        def route(env: AnyEnvelope) -> str | None:
            sig = signal_for(env)
            spec = _step0_join(sig, config, index) if sig else None
            return spec["group_id"] if spec else None

        def decide(doc: Doc | None, env: AnyEnvelope) -> Decision:
            sig = signal_for(env)
            assert sig is not None
            spec = _step0_join(sig, config, index)
            assert spec is not None
            return group_rules.join(doc, sig.fingerprint, spec, clock.now(), "0")

        return Projection(f"groups-{index}", stores.groups, route, decide)

    return [make(i) for i in range(fanout)]


def timer_projection(timers: DueIndex, config: RoutingConfig, clock: Clock, fanout: int) -> TimerProjection:
    """After the alert and its groups are written, make the engine look at both right away."""

    def route(env: AnyEnvelope) -> str | None:
        sig = signal_for(env)
        return sig.fingerprint if sig and sig.kind == "raise" else None

    def when(env: AnyEnvelope) -> list[tuple[str, datetime]]:
        # Only a raise starts timer work. A resolve ends the alert's escalation in the alert write itself
        # and joins no group, so a timer for it would only make the engine read the alert again; every
        # delivered shipment is a resolve (820,161 at national scale, nearly all of alerts never raised).
        sig = signal_for(env)
        if sig is None or sig.kind != "raise":
            return []
        now = clock.now()
        timers_for = [(f"alert:{sig.fingerprint}", now)]
        for index in range(fanout):
            spec = _step0_join(sig, config, index)
            if spec is not None:
                timers_for.append((f"group:{spec['group_id']}", now))
        return timers_for

    return TimerProjection("timers", timers, route, when)


def route_count(config: RoutingConfig) -> int:
    def count(r: Route) -> int:
        return 1 + sum(count(c) for c in r.routes)

    return count(config.route)
