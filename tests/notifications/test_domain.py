"""Pure rules: escalation repeats, re-triggering restarts the chain, fingerprints and rendering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from siaga_notifications.config import parse_routing
from siaga_notifications.domain import alerts, escalation
from siaga_notifications.domain.render import render
from siaga_notifications.domain.sources import signal_for
from siaga_schemas import Envelope
from siaga_schemas.events.notifications import AlertAcknowledged

from .support import ROUTING, T0, shipment_delayed


def test_chain_repeats_then_ends() -> None:
    policy = {
        "name": "p",
        "repeat": 1,
        "steps": [{"notify": ["a"], "wait": 60}, {"notify": ["b"], "wait": 60}],
    }
    esc: dict[str, Any] | None = escalation.start_chain(policy, T0)
    seen = []
    now = T0
    while esc is not None and esc["next_due_at"] is not None:
        now = esc["next_due_at"]
        esc = escalation.advance(esc, now)
        if esc is not None:
            seen.append((esc["step"], esc["round"], esc["seq"]))
    assert seen == [(1, 0, 1), (0, 1, 2), (1, 1, 3)]


def test_retrigger_restarts_the_chain_with_the_snapshot_it_was_raised_with() -> None:
    config = parse_routing(ROUTING)
    env = Envelope.wrap(shipment_delayed(1, "65.01.01"), source="/siaga/logistics", time=T0)
    sig = signal_for(env)
    assert sig is not None and len(sig.fingerprint) == 32
    raised = alerts.apply_signal(None, sig, config, T0, env.id).state
    assert raised is not None and raised["chain_run"] == 0
    assert [s["notify"] for s in raised["esc"]["policy"]["steps"]] == [
        ["kabkota"],
        ["province"],
        ["national"],
    ]
    stepped = alerts.escalate(raised, T0 + timedelta(minutes=10)).state
    assert stepped is not None and stepped["esc"]["step"] == 1 and stepped["pending_joins"][0]["step"] == 1
    # An edited policy does not touch the alert in flight: it carries its own snapshot.
    edited = parse_routing(
        ROUTING.replace("{notify: [province], wait: 10m}", "{notify: [national], wait: 1m}")
    )
    again = alerts.apply_signal(stepped, sig, edited, T0 + timedelta(minutes=11), env.id).state
    assert again is not None and again["esc"] == stepped["esc"]
    done = alerts.resolve(again, T0 + timedelta(minutes=12), None, "cause cleared").state
    assert done is not None
    refired = alerts.apply_signal(done, sig, edited, T0 + timedelta(minutes=13), env.id).state
    assert refired is not None and refired["chain_run"] == 1 and refired["esc"]["step"] == 0
    assert refired["esc"]["policy"]["steps"][1]["notify"] == ["national"]


def test_rendering_in_indonesian_and_english_uses_official_region_names() -> None:
    alert = {
        "fingerprint": "ab" * 16,
        "alertname": "shipment-delayed",
        "severity": "critical",
        "summary": {"id": "Pengiriman terlambat", "en": "Shipment late"},
    }
    title_id, body_id = render("id", firing=[alert], resolved=[], region="65.01", step=1)
    title_en, body_en = render("en", firing=[alert], resolved=[], region="65.01", step=1)
    assert title_id.startswith("[KRITIS] 1 pengiriman terlambat") and "BULUNGAN" in title_id.upper()
    assert title_en.startswith("[CRITICAL] 1 shipments delayed")
    assert "Eskalasi tingkat 1" in body_id and "Shipment late" in body_en


def test_a_notice_is_resolved_by_the_event_that_makes_it_moot() -> None:
    from siaga_notifications.domain.sources import notice_cleared
    from siaga_schemas.events import meetings as mt

    common = {
        "action_item_id": "act-1",
        "meeting_id": "mtg-1",
        "recommendation_ref": "3.a",
        "assignee": {"institution": "bawaslu", "region": "35.26"},
    }
    assigned = Envelope.wrap(
        mt.ActionItemAssigned(**common, title="Monitor ODP", due_at=T0 + timedelta(days=3)),
        source="/siaga/meetings",
        time=T0,
    )
    completed = Envelope.wrap(
        mt.ActionItemCompleted(**common, completed_at=T0 + timedelta(days=1)),
        source="/siaga/meetings",
        time=T0,
    )
    raised, cleared = signal_for(assigned), notice_cleared(completed)
    assert raised is not None and raised.kind == "raise" and raised.severity == "info"
    assert cleared is not None and cleared.kind == "resolve"
    assert cleared.fingerprint == raised.fingerprint
    overdue_signal = signal_for(completed)  # the same event also clears the overdue alert, if any
    assert overdue_signal is not None and overdue_signal.fingerprint != raised.fingerprint
    assert notice_cleared(assigned) is None


def test_only_a_raise_starts_timer_work() -> None:
    """A delivered shipment resolves its delay alert in the alert write; it schedules no timer."""
    from siaga_notifications.handlers import route_count, timer_projection
    from siaga_runtime import ManualClock
    from siaga_schemas.events.logistics import ShipmentDelivered

    config = parse_routing(ROUTING)
    projection = timer_projection(None, config, ManualClock(T0), route_count(config))  # type: ignore[arg-type]
    delayed = Envelope.wrap(shipment_delayed(1, "65.01.01"), source="/siaga/logistics", time=T0)
    sig = signal_for(delayed)
    assert sig is not None
    assert projection.route(delayed) == sig.fingerprint
    timers = projection.when(delayed)
    assert (f"alert:{sig.fingerprint}", T0) in timers and any(t.startswith("group:") for t, _ in timers)
    delivered = Envelope.wrap(
        ShipmentDelivered.model_construct(  # type: ignore[call-arg]  # only what the projection reads
            shipment_id=delayed.data.shipment_id, was_delayed=True
        ),
        source="/siaga/logistics",
        time=T0,
    )
    resolve = signal_for(delivered)
    assert resolve is not None and resolve.kind == "resolve" and resolve.fingerprint == sig.fingerprint
    assert projection.route(delivered) is None
    assert projection.when(delivered) == []


def test_a_resolve_before_its_raise_leaves_nothing_behind_and_the_raise_still_works() -> None:
    """A report submitted on time clears an alert that was never raised: no document is written, and an
    alert later raised under that fingerprint (or over a bare dedup record an older version left) fires."""
    from siaga_schemas.events.logistics import ShipmentDelivered

    config = parse_routing(ROUTING)
    delayed = Envelope.wrap(shipment_delayed(1, "65.01.01"), source="/siaga/logistics", time=T0)
    delivered = Envelope.wrap(
        ShipmentDelivered.model_construct(  # type: ignore[call-arg]  # only what the projection reads
            shipment_id=delayed.data.shipment_id, was_delayed=True
        ),
        source="/siaga/logistics",
        time=T0,
    )
    resolve, raise_ = signal_for(delivered), signal_for(delayed)
    assert resolve is not None and raise_ is not None
    cleared = alerts.apply_signal(None, resolve, config, T0, delivered.id)
    assert cleared.state is None
    husk = {"_id": raise_.fingerprint, "_v": 1, "_keys": [delivered.id], "_outbox": []}
    raised = alerts.apply_signal(husk, raise_, config, T0, delayed.id).state
    assert (
        raised is not None
        and raised["status"] == "firing"
        and raised["labels"]["alertname"] == "shipment-delayed"
    )


def test_a_plain_acknowledgement_can_be_turned_into_mute_until_resolved_and_a_re_fire_clears_it() -> None:
    config = parse_routing(ROUTING)
    env = Envelope.wrap(shipment_delayed(1, "65.01.01"), source="/siaga/logistics", time=T0)
    sig = signal_for(env)
    assert sig is not None
    raised = alerts.apply_signal(None, sig, config, T0, env.id).state
    assert raised is not None and raised["esc"]["next_due_at"] is not None
    acked = alerts.acknowledge(raised, T0, "Logistik KPU Bulungan", None, via="link", contact_id="ct-1")
    assert acked.state is not None and acked.state["ack_until_resolved"] is False
    [event] = acked.emit
    assert isinstance(event, AlertAcknowledged) and event.until_resolved is False
    assert acked.state["esc"]["next_due_at"] is None
    assert alerts.acknowledge(acked.state, T0, "x", None).state is None  # acknowledged again: nothing
    muted = alerts.acknowledge(acked.state, T0, "Desk Nasional", None, until_resolved=True)
    assert muted.state is not None and muted.state["ack_until_resolved"] is True
    assert muted.state["acknowledged_by"] == "Logistik KPU Bulungan"  # who acknowledged first stays
    assert [h["action"] for h in muted.state["history"]][-2:] == ["acknowledged", "muted-until-resolved"]
    assert alerts.acknowledge(muted.state, T0, "x", None, until_resolved=True).state is None
    resolved = alerts.resolve(muted.state, T0, None, "cause cleared").state
    assert resolved is not None
    again = alerts.apply_signal(resolved, sig, config, T0 + timedelta(hours=1), env.id).state
    assert again is not None and again["status"] == "firing" and again["ack_until_resolved"] is False
    assert again["chain_run"] == 1 and again["acknowledged_by"] is None
