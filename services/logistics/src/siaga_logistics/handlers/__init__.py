"""Async handlers: collaborators (stores, clock, thresholds) come in as parameters."""

from .common import Stores
from .file_import import ImportProgress, ImportReport, RejectedRow, import_file
from .inbound import make_status_decider, route_status
from .plan_import import KabImport, import_kab
from .plans import create_plan, load_plan
from .projections import OWN_EVENTS, own_event_projections
from .shipments import Transition, create_shipment, get_shipment, transition
from .sweeps import sweep_delays, sweep_risk

__all__ = [
    "OWN_EVENTS",
    "ImportProgress",
    "ImportReport",
    "KabImport",
    "RejectedRow",
    "Stores",
    "Transition",
    "create_plan",
    "create_shipment",
    "get_shipment",
    "import_file",
    "import_kab",
    "load_plan",
    "make_status_decider",
    "own_event_projections",
    "route_status",
    "sweep_delays",
    "sweep_risk",
    "transition",
]
