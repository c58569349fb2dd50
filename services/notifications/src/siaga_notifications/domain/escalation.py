"""Escalation chains: a policy snapshot travels with each alert, so editing a policy never changes alerts
already in flight. Steps notify receivers, wait for an acknowledgement, then move on; ``repeat`` runs the
chain again. Pure functions over plain dicts (the alert document's ``esc`` field)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .routing import EscalationPolicy, ResolvedRoute

__all__ = ["advance", "next_step", "snapshot", "start_chain"]


def snapshot(route: ResolvedRoute, policy: EscalationPolicy | None) -> dict[str, Any]:
    """The chain an alert will follow, frozen now. Without a policy: the route's receiver, once."""
    if policy is None:
        return {"name": None, "repeat": 0, "steps": [{"notify": [route.receiver], "wait": None}]}
    return {
        "name": route.escalation,
        "repeat": policy.repeat,
        "steps": [{"notify": list(s.notify), "wait": s.wait} for s in policy.steps],
    }


def start_chain(policy: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Escalation state at step 0 of a fresh chain."""
    wait = policy["steps"][0]["wait"]
    return {
        "policy": policy,
        "step": 0,
        "round": 0,
        "seq": 0,
        "next_due_at": now + timedelta(seconds=wait) if wait is not None else None,
    }


def next_step(esc: dict[str, Any]) -> tuple[int, int] | None:
    """``(step, round)`` after the current one, or ``None`` at the end of the chain."""
    steps = esc["policy"]["steps"]
    step, rnd = esc["step"], esc["round"]
    if step + 1 < len(steps):
        return step + 1, rnd
    if rnd < esc["policy"]["repeat"]:
        return 0, rnd + 1
    return None


def advance(esc: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The state after the due step fires, or ``None`` when the chain has ended."""
    nxt = next_step(esc)
    if nxt is None:
        return None
    step, rnd = nxt
    wait = esc["policy"]["steps"][step]["wait"]
    last = next_step({**esc, "step": step, "round": rnd}) is None
    return {
        **esc,
        "step": step,
        "round": rnd,
        "seq": esc["seq"] + 1,
        "next_due_at": now + timedelta(seconds=wait) if wait is not None and not last else None,
    }
