"""A service's AsyncAPI 3.0 document, generated from what its runtime declares.

What an outside integrator needs to build a valid record without asking us, all taken from the code:

- one message per event type and command (``ShipmentDelayed``, ``SubmitReport``, ...), named after its
  payload model, with a title, a summary, its payload schema and a complete example built by
  ``examples.example_of`` from the model (so it cannot drift);
- the CloudEvents envelope described once (``components.schemas.CloudEvent``, the message trait
  ``CloudEvent`` with the ``content-type`` header and the correlation id), each message adding its ``type``,
  ``schemaversion`` and ``data``;
- Kafka bindings: the record key (the event's ``partitionkey``), and per channel the partitions, retention
  and cleanup policy of the topic registry (``siaga_schemas.topics``);
- every topic the service publishes to and consumes, and the dead-letter topic ``<topic>.dlt`` of each
  consumed one with its ``dlt.*`` headers (``deadletter``); operations ``send`` and ``receive`` name the
  messages of each.

Modules: ``messages`` (the messages and shared components), ``document`` (channels, operations, the whole
document).
"""

from .document import build_asyncapi
from .messages import KAFKA_BINDING_VERSION, example_envelope, message_name

__all__ = ["KAFKA_BINDING_VERSION", "build_asyncapi", "example_envelope", "message_name"]
