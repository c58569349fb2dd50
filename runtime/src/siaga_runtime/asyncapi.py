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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from siaga_schemas import CONTENT_TYPE, DeadLetterReason, Envelope, EventData, TopicSpec, dead_letter_topic
from siaga_schemas.codec import MAX_EVENT_BYTES
from siaga_schemas.topics import DEAD_LETTER_PARTITIONS, DEAD_LETTER_RETENTION_MS, TOPICS

from .deadletter import HEADER_PREFIX
from .examples import NOW, example_of

if TYPE_CHECKING:
    from .service import ServiceRuntime
    from .subscriptions import Route

__all__ = ["KAFKA_BINDING_VERSION", "build_asyncapi", "example_envelope", "message_name"]

KAFKA_BINDING_VERSION = "0.5.0"
REF = "#/components/schemas/{model}"
DEAD_LETTER = "DeadLetter"
DEAD_LETTER_HEADERS = {
    "reason": "Why the record was dead-lettered.",
    "error.class": "Class of the error, e.g. InvalidEvent or EventRejected.",
    "error.message": "What was wrong, naming the field (at most 1000 characters).",
    "service": "The consuming service that dead-lettered it.",
    "time": "When it was dead-lettered (RFC 3339).",
    "source.topic": "The topic the record was read from.",
    "source.partition": "Its partition there.",
    "source.offset": "Its offset there.",
}


def message_name(model: type[EventData]) -> str:
    """The message's name in the document: its payload model's class name (``ShipmentDelayed``)."""
    return model.__name__


def _summary(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else model.__name__


def _title(model: type[EventData]) -> str:
    words = model.event_type.rsplit(".", 1)[-1].replace("-", " ")
    return f"{words[:1].upper()}{words[1:]} (v{model.schema_version})"


def _example_id(model: type[EventData]) -> str:
    """A fixed, valid event id per example (a UUID of version 7's shape), so the document is stable."""
    digest = hashlib.sha256(f"{model.event_type}:{model.schema_version}".encode()).hexdigest()
    return f"0192f5c4-5b7e-7{digest[:3]}-9{digest[3:6]}-{digest[6:18]}"


def example_envelope(model: type[EventData], source: str, schema_base: str | None) -> dict[str, Any]:
    """The complete CloudEvent of the message's example, as it travels in the record value."""
    envelope = Envelope.wrap(
        example_of(model),
        source=source,
        schema_base=schema_base,
        time=NOW,
        event_id=_example_id(model),
        correlation_id="0192f5c4-5b7e-7000-8000-c0441e1a7101",
    )
    if schema_base is None:
        envelope = envelope.model_copy(update={"dataschema": None})
    value: dict[str, Any] = json.loads(envelope.to_bytes())
    return value


class _Builder:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.service = runtime.settings.service_name
        self.schema_base = runtime.settings.schema_base_url()
        self.schemas: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}

    # -- components ------------------------------------------------------------------------------------

    def add_payload_schemas(self, models: Iterable[type[EventData]]) -> None:
        unique = sorted(set(models), key=lambda m: m.__name__)
        _, defs = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
        self.schemas.update(defs.get("$defs", {}))
        envelope = Envelope[EventData].model_json_schema(mode="validation", ref_template=REF)
        envelope.pop("$defs", None)
        envelope["properties"].pop("data")
        envelope["required"] = [r for r in envelope["required"] if r != "data"]
        envelope["title"] = "CloudEvent"
        envelope["description"] = (
            "A CloudEvents 1.0 event in structured mode (the whole event is the JSON record value) with "
            "Siaga's extension attributes. Each message gives its own type, schemaversion and data."
        )
        envelope["properties"]["id"]["description"] = (
            "The message id: unique per event, a time-ordered UUIDv7. Consumers deduplicate on it: a "
            "record re-sent with the same id (or the same scan under a new id) is applied once."
        )
        self.schemas["CloudEvent"] = envelope
        self.schemas["KafkaHeaders"] = {
            "type": "object",
            "description": "Kafka record headers. Any other header is kept but ignored.",
            "properties": {
                "content-type": {
                    "type": "string",
                    "const": CONTENT_TYPE,
                    "description": "CloudEvents structured mode (Kafka protocol binding); another value "
                    "is dead-lettered as wrong_content_type. May be left out.",
                }
            },
        }
        self.schemas["DeadLetterHeaders"] = {
            "type": "object",
            "description": "The original record's headers, kept, plus the dlt.* headers.",
            "required": [HEADER_PREFIX + name for name in DEAD_LETTER_HEADERS],
            "properties": {
                HEADER_PREFIX + "reason": {
                    "type": "string",
                    "enum": [r.value for r in DeadLetterReason],
                    "description": DEAD_LETTER_HEADERS["reason"],
                },
                **{
                    HEADER_PREFIX + name: {"type": "string", "description": text}
                    for name, text in DEAD_LETTER_HEADERS.items()
                    if name != "reason"
                },
                "content-type": {"type": "string", "description": "The original record's content type."},
            },
        }

    def add_message(self, model: type[EventData]) -> str:
        name = message_name(model)
        if name in self.messages:
            return name
        spec = TOPICS[model.topic]
        owned = spec.owner == self.service
        # an inbound command is sent by an agency's system; every other event by the service that owns it
        inbound = owned and spec.name not in self.runtime.published
        source = "/agency/example" if inbound else f"/siaga/{spec.owner}"
        example = example_envelope(model, source, self.schema_base if owned else None)
        self.messages[name] = {
            "name": name,
            "title": _title(model),
            "summary": _summary(model),
            "description": (
                f"CloudEvent of type `{model.event_type}`, schemaversion {model.schema_version}, on "
                f"`{model.topic}`. Record key: the event's partitionkey ({spec.key}). The JSON Schema of "
                f"the whole event is served by the {spec.owner} service at `{model.data_schema_path()}` "
                f"(the event's dataschema URL). A record over {MAX_EVENT_BYTES} bytes is dead-lettered "
                "as oversized."
            ),
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "required": ["type", "schemaversion", "data"],
                        "properties": {
                            "type": {"type": "string", "const": model.event_type},
                            "schemaversion": {"type": "integer", "const": model.schema_version},
                            "data": {"$ref": REF.format(model=model.__name__)},
                        },
                    },
                ]
            },
            "traits": [{"$ref": "#/components/messageTraits/CloudEvent"}],
            "bindings": {"kafka": self._key_binding(spec)},
            "examples": [
                {
                    "name": f"{name}Example",
                    "summary": f"A complete {model.event_type} v{model.schema_version} event.",
                    "headers": {"content-type": CONTENT_TYPE},
                    "payload": example,
                }
            ],
        }
        return name

    @staticmethod
    def _key_binding(spec: TopicSpec) -> dict[str, Any]:
        return {
            "key": {
                "type": "string",
                "description": f"The event's partitionkey: {spec.key}. Orders the events of one aggregate.",
            },
            "bindingVersion": KAFKA_BINDING_VERSION,
        }

    def add_dead_letter_message(self) -> None:
        example_model = next(iter(self.runtime.received.values())).models[0]
        original = example_envelope(example_model, "/agency/example", None)
        original["data"] = {**original["data"], "unexpected": {"$gt": ""}}
        topic = self.settings.topic_name(example_model.topic)
        self.messages[DEAD_LETTER] = {
            "name": DEAD_LETTER,
            "title": "Dead letter",
            "summary": "A record a consumer could never process: the original key, value and headers, "
            "untouched, plus why.",
            "description": (
                "Read these to find out what was wrong with what you sent; after a fix, "
                "`python -m siaga_runtime.dlq replay` re-publishes them to their source topic (with the "
                "header `dlt.replayed: 1`). The value is the original bytes: usually a CloudEvent, but "
                "possibly not JSON at all. Reasons: " + ", ".join(r.value for r in DeadLetterReason) + "."
            ),
            "contentType": CONTENT_TYPE,
            "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
            "payload": {"description": "The original record value, byte for byte (any content)."},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The original record's key."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
            "examples": [
                {
                    "name": "ForbiddenKey",
                    "summary": "A record with a MongoDB operator in a key, dead-lettered by the "
                    f"{self.service} service.",
                    "headers": {
                        "content-type": CONTENT_TYPE,
                        "dlt.reason": DeadLetterReason.FORBIDDEN_KEY.value,
                        "dlt.error.class": "InvalidEvent",
                        "dlt.error.message": "key '/data/unexpected/$gt' starts with '$' or contains '.'",
                        "dlt.service": self.service,
                        "dlt.time": NOW.isoformat(),
                        "dlt.source.topic": topic,
                        "dlt.source.partition": "0",
                        "dlt.source.offset": "42",
                    },
                    "payload": original,
                }
            ],
        }

    # -- channels and operations -----------------------------------------------------------------------

    def add_channel(self, spec: TopicSpec, models: Sequence[type[EventData]]) -> str:
        address = self.settings.topic_name(spec.name)
        channel = self.channels.setdefault(
            address,
            {
                "address": address,
                "title": address,
                "description": spec.description,
                "messages": {},
                "bindings": {
                    "kafka": {
                        "topic": address,
                        "partitions": spec.partitions,
                        "topicConfiguration": {
                            "cleanup.policy": [spec.cleanup_policy],
                            "retention.ms": spec.retention_ms,
                        },
                        "bindingVersion": KAFKA_BINDING_VERSION,
                    }
                },
            },
        )
        for model in models:
            name = self.add_message(model)
            channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        return address

    def add_dead_letter_channel(self, spec: TopicSpec) -> str:
        address = dead_letter_topic(self.settings.topic_name(spec.name))
        self.channels[address] = {
            "address": address,
            "title": address,
            "description": f"Dead letters of {self.settings.topic_name(spec.name)}: every record a "
            "consumer of it could never process, with the reason.",
            "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
            "bindings": {
                "kafka": {
                    "topic": address,
                    "partitions": DEAD_LETTER_PARTITIONS,
                    "topicConfiguration": {
                        "cleanup.policy": ["delete"],
                        "retention.ms": DEAD_LETTER_RETENTION_MS,
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        return address

    def add_operation(
        self, op_id: str, action: str, address: str, names: Iterable[str], summary: str, kafka: dict[str, Any]
    ) -> None:
        self.operations[op_id] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{address}"},
            "summary": summary,
            "messages": [{"$ref": f"#/channels/{address}/messages/{n}"} for n in sorted(set(names))],
            "bindings": {"kafka": {**kafka, "bindingVersion": KAFKA_BINDING_VERSION}},
        }

    def build(self, title: str, description: str) -> dict[str, Any]:
        runtime = self.runtime
        published: list[Route] = list(runtime.published.values())
        received: list[Route] = list(runtime.received.values())
        self.add_payload_schemas(m for route in (*published, *received) for m in route.models)
        group = {"groupId": {"type": "string", "enum": [self.settings.group_id()]}}
        consumes = (
            " A type that Siaga publishes but this service does not handle is skipped; any other record it "
            "cannot process is dead-lettered."
        )
        sides: list[tuple[str, str, list[Route], dict[str, Any], str]] = [
            ("send", "publishes", published, {}, ""),
            ("receive", "consumes", received, group, consumes),
        ]
        for action, verb, routes, kafka, note in sides:
            for route in routes:
                address = self.add_channel(route.spec, route.models)
                self.add_operation(
                    f"{address}.{action}",
                    action,
                    address,
                    (message_name(m) for m in route.models),
                    f"The {self.service} service {verb}: {route.description}{note}",
                    kafka,
                )
        if received:
            self.add_dead_letter_message()
        for route in received:
            address = self.add_dead_letter_channel(route.spec)
            self.add_operation(
                f"{address}.send",
                "send",
                address,
                [DEAD_LETTER],
                f"The {self.service} service dead-letters what it cannot process from "
                f"{self.settings.topic_name(route.spec.name)}.",
                {},
            )
        return {
            "asyncapi": "3.0.0",
            "info": {"title": title, "version": "1.0.0", "description": description},
            "defaultContentType": CONTENT_TYPE,
            "servers": {
                "development": {
                    "host": self.settings.kafka_bootstrap_servers.split(",")[0],
                    "protocol": "kafka",
                    "description": "The local Kafka of the devstack (`make run`); deployments give their own.",
                }
            },
            "channels": self.channels,
            "operations": self.operations,
            "components": {
                "schemas": self.schemas,
                "messages": self.messages,
                "messageTraits": {
                    "CloudEvent": {
                        "contentType": CONTENT_TYPE,
                        "headers": {"$ref": "#/components/schemas/KafkaHeaders"},
                        "correlationId": {"$ref": "#/components/correlationIds/CorrelationId"},
                    }
                },
                "correlationIds": {
                    "CorrelationId": {
                        "description": "Shared by every event of one business flow (the CloudEvents "
                        "extension attribute correlationid, in the body). Each event's own id, the message "
                        "id, is at $message.payload#/id.",
                        "location": "$message.payload#/correlationid",
                    }
                },
            },
        }


def build_asyncapi(runtime: ServiceRuntime, title: str, description: str = "") -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document (a JSON-ready dict)."""
    doc = _Builder(runtime).build(title, description)
    result: dict[str, Any] = json.loads(json.dumps(doc))
    return result
