"""A service's AsyncAPI 3.0 document assembled from what its runtime declares: a channel per topic it
publishes to or consumes (and the dead-letter topic of each consumed one), operations naming their messages
(``messages``), the development server and the shared components."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from siaga_schemas import CONTENT_TYPE, EventData, TopicSpec, dead_letter_topic
from siaga_schemas.topics import DEAD_LETTER_PARTITIONS, DEAD_LETTER_RETENTION_MS

from .messages import (
    DEAD_LETTER,
    KAFKA_BINDING_VERSION,
    component_schemas,
    dead_letter_message,
    event_message,
    message_name,
)

if TYPE_CHECKING:
    from ..service import ServiceRuntime
    from ..subscriptions import Route

__all__ = ["build_asyncapi"]


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

    def add_message(self, model: type[EventData]) -> str:
        name = message_name(model)
        if name not in self.messages:
            self.messages[name] = event_message(
                model, service=self.service, published=self.runtime.published, schema_base=self.schema_base
            )
        return name

    def add_dead_letter_message(self) -> None:
        example_model = next(iter(self.runtime.received.values())).models[0]
        self.messages[DEAD_LETTER] = dead_letter_message(
            example_model, service=self.service, topic=self.settings.topic_name(example_model.topic)
        )

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
        self.schemas.update(component_schemas(m for route in (*published, *received) for m in route.models))
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
