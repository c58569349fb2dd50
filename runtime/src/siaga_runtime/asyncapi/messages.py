"""The messages of an AsyncAPI document: one per event type and command, with its payload schema and a
complete example, the dead letter, and the shared components (the CloudEvent envelope, Kafka headers)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from siaga_schemas import CONTENT_TYPE, DeadLetterReason, Envelope, EventData, TopicSpec
from siaga_schemas.codec import MAX_EVENT_BYTES
from siaga_schemas.topics import TOPICS

from ..deadletter import HEADER_PREFIX
from ..examples import NOW, example_of

__all__ = [
    "DEAD_LETTER",
    "KAFKA_BINDING_VERSION",
    "REF",
    "component_schemas",
    "dead_letter_message",
    "event_message",
    "example_envelope",
    "key_binding",
    "message_name",
]

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


def component_schemas(models: Iterable[type[EventData]]) -> dict[str, Any]:
    """The payload schemas of ``models``, the CloudEvent envelope and the Kafka headers (``components.schemas``)."""
    schemas: dict[str, Any] = {}
    unique = sorted(set(models), key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
    schemas.update(defs.get("$defs", {}))
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
    schemas["CloudEvent"] = envelope
    schemas["KafkaHeaders"] = {
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
    schemas["DeadLetterHeaders"] = {
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
    return schemas


def event_message(
    model: type[EventData], *, service: str, published: Container[str], schema_base: str | None
) -> dict[str, Any]:
    """The message of one event type or command, with its example; ``published``: the topics the service
    publishes (an owned topic it does not publish carries commands an agency sends)."""
    name = message_name(model)
    spec = TOPICS[model.topic]
    owned = spec.owner == service
    # an inbound command is sent by an agency's system; every other event by the service that owns it
    inbound = owned and spec.name not in published
    source = "/agency/example" if inbound else f"/siaga/{spec.owner}"
    example = example_envelope(model, source, schema_base if owned else None)
    return {
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
        "bindings": {"kafka": key_binding(spec)},
        "examples": [
            {
                "name": f"{name}Example",
                "summary": f"A complete {model.event_type} v{model.schema_version} event.",
                "headers": {"content-type": CONTENT_TYPE},
                "payload": example,
            }
        ],
    }


def key_binding(spec: TopicSpec) -> dict[str, Any]:
    """The Kafka binding of a message: its record key."""
    return {
        "key": {
            "type": "string",
            "description": f"The event's partitionkey: {spec.key}. Orders the events of one aggregate.",
        },
        "bindingVersion": KAFKA_BINDING_VERSION,
    }


def dead_letter_message(example_model: type[EventData], *, service: str, topic: str) -> dict[str, Any]:
    """The message of every dead-letter topic, its example a record of ``example_model`` from ``topic``."""
    original = example_envelope(example_model, "/agency/example", None)
    original["data"] = {**original["data"], "unexpected": {"$gt": ""}}
    return {
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
                f"{service} service.",
                "headers": {
                    "content-type": CONTENT_TYPE,
                    "dlt.reason": DeadLetterReason.FORBIDDEN_KEY.value,
                    "dlt.error.class": "InvalidEvent",
                    "dlt.error.message": "key '/data/unexpected/$gt' starts with '$' or contains '.'",
                    "dlt.service": service,
                    "dlt.time": NOW.isoformat(),
                    "dlt.source.topic": topic,
                    "dlt.source.partition": "0",
                    "dlt.source.offset": "42",
                },
                "payload": original,
            }
        ],
    }
