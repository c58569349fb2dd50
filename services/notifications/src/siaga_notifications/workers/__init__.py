"""The service's own clocks and queues (not handlers of a command or an event): the durable timers of
escalation steps and group flushes (``timers.Engine``) and one delivery worker per channel
(``delivery.DeliveryWorker``)."""

from .delivery import DeliveryWorker, outgoing
from .timers import Engine

__all__ = ["DeliveryWorker", "Engine", "outgoing"]
