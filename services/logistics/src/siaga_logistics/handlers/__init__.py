"""Async handlers: collaborators (stores, clock, thresholds) come in as parameters."""

from .common import Stores
from .inbound import make_status_decider, route_status
from .plans import create_plan, load_plan
from .projections import readiness_projections
from .shipments import Transition, create_shipment, get_shipment, transition
from .sweeps import eta_timers, route_eta, sweep_delays, sweep_risk

__all__ = [
    "Stores",
    "Transition",
    "create_plan",
    "create_shipment",
    "eta_timers",
    "get_shipment",
    "load_plan",
    "make_status_decider",
    "readiness_projections",
    "route_eta",
    "route_status",
    "sweep_delays",
    "sweep_risk",
    "transition",
]
