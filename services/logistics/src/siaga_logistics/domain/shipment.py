"""The shipment state machine: planned → dispatched → in transit → delivered → closed, or rerouted/cancelled.

Every transition is a pure function from the current ``Shipment`` to the next one plus the events it
emits. Updates carry the time they were observed; an older status never overwrites a newer one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from siaga_schemas import EventData
from siaga_schemas.errors import DomainError, ErrorKind
from siaga_schemas.events import logistics as ev

from .delay import RANK
from .pod import check_pod, discrepancies

__all__ = ["MAX_CHECKPOINTS", "MOVING", "OPEN", "Checkpoint", "Shipment", "Status"]


class Status(StrEnum):
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    REROUTED = "rerouted"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# A shipment lists its last checkpoints only, so that its document stays bounded however long the journey;
# every checkpoint is also an event (shipment-checkpoint-passed) on the topic.
MAX_CHECKPOINTS = 10
OPEN = frozenset({Status.PLANNED, Status.DISPATCHED, Status.IN_TRANSIT, Status.REROUTED})
MOVING = frozenset({Status.DISPATCHED, Status.IN_TRANSIT, Status.REROUTED})


class Checkpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    place: str
    region: str | None = None
    passed_at: datetime
    eta: datetime | None = None
    source: str = Field("api", description="'api' or the reporting system.")
    lot_id: str | None = None


class Shipment(BaseModel):
    model_config = ConfigDict(frozen=True)

    shipment_id: str
    plan_id: str
    election_id: str
    leg_id: str
    origin: ev.Site
    destination: ev.Site
    lines: list[ev.ShipmentLine]
    transport_mode: ev.TransportMode
    planned_dispatch_at: datetime
    eta: datetime
    deadline_at: datetime
    legal_deadline_at: datetime
    status: Status = Status.PLANNED
    status_at: datetime | None = None
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    reroutes: list[dict[str, Any]] = Field(default_factory=list)
    pod: list[ev.PodLine] = Field(default_factory=list)
    handover: ev.HandoverRecord | None = None
    delay_severity: ev.DelaySeverity | None = None
    delayed_at: datetime | None = None
    checkpoints_total: int = Field(0, description="Checkpoints passed, including those no longer listed.")

    @property
    def destination_region(self) -> str:
        return self.destination.region

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Shipment:
        return cls.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})

    # -- helpers ----------------------------------------------------------------------------------

    def _base(self) -> dict[str, Any]:
        return {"shipment_id": self.shipment_id, "destination_region": self.destination_region}

    def _newer(self, at: datetime) -> bool:
        return self.status_at is None or at >= self.status_at

    def _require(self, allowed: frozenset[Status], action: str) -> None:
        if self.status not in allowed:
            raise DomainError(
                "status", f"cannot {action} a shipment that is {self.status.value}", ErrorKind.CONFLICT
            )

    def planned_event(self) -> ev.ShipmentPlanned:
        return ev.ShipmentPlanned(
            **self._base(),
            plan_id=self.plan_id,
            origin=self.origin,
            destination=self.destination,
            lines=self.lines,
            transport_mode=self.transport_mode,
            planned_dispatch_at=self.planned_dispatch_at,
            eta=self.eta,
            deadline_at=self.deadline_at,
            leg_id=self.leg_id,
            legal_deadline_at=self.legal_deadline_at,
        )

    # -- transitions ------------------------------------------------------------------------------

    def dispatch(self, at: datetime, eta: datetime | None) -> tuple[Shipment, list[EventData]]:
        if self.dispatched_at is not None and self.status is not Status.PLANNED:
            return self, []  # already dispatched (a late or repeated report)
        self._require(frozenset({Status.PLANNED}), "dispatch")
        if eta is not None and eta < at:
            raise DomainError("eta", "the ETA is before the dispatch time")
        # dispatched later than planned: it still needs the planned travel time
        travel = max(self.eta - self.planned_dispatch_at, timedelta(0))
        new_eta = eta or (self.eta if self.eta >= at else at + travel)
        nxt = self.model_copy(
            update={"status": Status.DISPATCHED, "status_at": at, "dispatched_at": at, "eta": new_eta}
        )
        return nxt, [ev.ShipmentDispatched(**self._base(), dispatched_at=at, eta=new_eta)]

    def checkpoint(self, cp: Checkpoint) -> tuple[Shipment, list[EventData]]:
        if self.status in (Status.CANCELLED,):
            raise DomainError("status", "the shipment is cancelled", ErrorKind.CONFLICT)
        if any(c.passed_at == cp.passed_at and c.place == cp.place for c in self.checkpoints):
            return self, []  # reported again (another id, the same scan)
        if len(self.checkpoints) >= MAX_CHECKPOINTS and cp.passed_at < self.checkpoints[0].passed_at:
            return self, []  # older than every checkpoint still listed: history the events already told
        update: dict[str, Any] = {
            "checkpoints": sorted([*self.checkpoints, cp], key=lambda c: c.passed_at)[-MAX_CHECKPOINTS:],
            "checkpoints_total": max(self.checkpoints_total, len(self.checkpoints)) + 1,
        }
        if self.dispatched_at is None:
            update["dispatched_at"] = cp.passed_at
        if self.status in OPEN and self._newer(cp.passed_at):
            update["status"] = Status.IN_TRANSIT
            update["status_at"] = cp.passed_at
            if cp.eta is not None:
                update["eta"] = cp.eta
        return self.model_copy(update=update), [
            ev.ShipmentCheckpointPassed(
                **self._base(), place=cp.place, region=cp.region, passed_at=cp.passed_at, eta=cp.eta
            )
        ]

    def reroute(
        self, at: datetime, reason: str, mode: ev.TransportMode, eta: datetime, via: str | None
    ) -> tuple[Shipment, list[EventData]]:
        self._require(OPEN, "reroute")
        if eta < at:
            raise DomainError("eta", "the new ETA is before the reroute time")
        entry = {
            "at": at.isoformat(),
            "reason": reason,
            "mode": mode.value,
            "via": via,
            "eta": eta.isoformat(),
            "previous_mode": self.transport_mode.value,
        }
        nxt = self.model_copy(
            update={
                "status": Status.REROUTED if self.status is not Status.PLANNED else Status.PLANNED,
                "status_at": at if self.status is not Status.PLANNED else self.status_at,
                "transport_mode": mode,
                "eta": eta,
                "reroutes": [*self.reroutes, entry][-MAX_CHECKPOINTS:],
            }
        )
        return nxt, [
            ev.ShipmentRerouted(
                **self._base(), rerouted_at=at, reason=reason, transport_mode=mode, via=via, eta=eta
            )
        ]

    def cancel(self, at: datetime, reason: str) -> tuple[Shipment, list[EventData]]:
        self._require(OPEN, "cancel")
        nxt = self.model_copy(
            update={"status": Status.CANCELLED, "status_at": at, "cancelled_at": at, "cancel_reason": reason}
        )
        return nxt, [ev.ShipmentCancelled(**self._base(), cancelled_at=at, reason=reason)]

    def arrive(self, at: datetime) -> tuple[Shipment, list[EventData]]:
        """An arrival scan without proof of delivery: stops the delay clock; the handover follows."""
        if self.status not in OPEN or (self.arrived_at is not None and self.arrived_at <= at):
            return self, []
        return self.model_copy(update={"arrived_at": at}), []

    def deliver(
        self, at: datetime, pod: list[ev.PodLine], handover: ev.HandoverRecord, now: datetime
    ) -> tuple[Shipment, list[EventData]]:
        self._require(OPEN, "deliver")
        if self.status is Status.PLANNED and self.dispatched_at is None:
            raise DomainError("status", "the shipment was never dispatched", ErrorKind.CONFLICT)
        if self.dispatched_at is not None and at < self.dispatched_at:
            raise DomainError("delivered_at", "delivery is before dispatch")
        check_pod(self.lines, pod)
        nxt = self.model_copy(
            update={
                "status": Status.DELIVERED,
                "status_at": at,
                "delivered_at": at,
                "arrived_at": self.arrived_at or at,
                "pod": pod,
                "handover": handover,
            }
        )
        events: list[EventData] = [
            ev.ShipmentDelivered(
                **self._base(),
                delivered_at=at,
                lines=pod,
                handover=handover,
                plan_id=self.plan_id,
                election_id=self.election_id,
                destination=self.destination,
                was_delayed=self.delay_severity is not None,
            )
        ]
        for d in discrepancies(self.lines, pod):
            events.append(
                ev.ShipmentDiscrepancyFound(
                    **self._base(),
                    category=d.category,
                    item=d.item,
                    quantity=d.quantity,
                    detected_at=now,
                    note=(f"{d.variant}: " if d.variant else "") + d.note,
                )
            )
        return nxt, events

    def close(self, at: datetime) -> tuple[Shipment, list[EventData]]:
        self._require(frozenset({Status.DELIVERED}), "close")
        nxt = self.model_copy(update={"status": Status.CLOSED, "status_at": at, "closed_at": at})
        return nxt, [ev.ShipmentClosed(**self._base(), closed_at=at)]

    def mark_delayed(self, severity: ev.DelaySeverity, now: datetime) -> tuple[Shipment, list[EventData]]:
        """Escalate only: each severity step is emitted once; a delivered shipment is never delayed."""
        if self.status not in OPEN or self.arrived_at is not None:
            return self, []
        if RANK[severity] <= RANK[self.delay_severity]:
            return self, []
        nxt = self.model_copy(update={"delay_severity": severity, "delayed_at": now})
        return nxt, [
            ev.ShipmentDelayed(
                **self._base(),
                severity=severity,
                eta=self.eta,
                deadline_at=self.deadline_at,
                slack_seconds=int((self.deadline_at - now).total_seconds()),
                detected_at=now,
                transport_mode=self.transport_mode,
                legal_deadline_at=self.legal_deadline_at,
                plan_id=self.plan_id,
            )
        ]
