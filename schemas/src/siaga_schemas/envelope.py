"""The one envelope every Siaga event travels in: CloudEvents 1.0, structured JSON mode.

Why structured mode (the whole CloudEvent, attributes and data, as one JSON document in the Kafka record
value) rather than binary mode (attributes in ``ce_*`` headers): a record is then self-contained, so it
survives tools and mirrors that drop headers, dead-letter copies and replays keep every attribute, and an
agency's consumer needs nothing but a JSON parser. Producers still set the ``content-type`` header to
``application/cloudevents+json`` as the Kafka protocol binding requires, and the record key is the event's
``partitionkey`` (the aggregate id), which gives ordering per aggregate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar, Generic, Literal, TypeAlias, TypeVar

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

from .common import Timestamp

__all__ = [
    "CONTENT_TYPE",
    "DATA_CONTENT_TYPE",
    "AnyEnvelope",
    "Envelope",
    "EventData",
    "data_schema_ref",
    "new_event_id",
    "utcnow",
]

CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE: Literal["application/json"] = "application/json"
SPEC_VERSION: Literal["1.0"] = "1.0"

# Covariant: an envelope is frozen, so ``Envelope[ShipmentDelivered]`` is safely an ``Envelope[EventData]``.
D = TypeVar("D", bound="EventData", covariant=True)
E = TypeVar("E", bound="EventData")


def new_event_id() -> str:
    """A time-ordered UUID (version 7) as text."""
    return str(uuid_utils.uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    """Base of every event payload.

    Subclasses set ``event_type`` (past tense, ``siaga.<service>.<event-name>``), ``schema_version`` and
    ``topic`` and implement ``partition_key``. Consumers ignore fields they do not know, so a producer may
    add optional fields without breaking anyone; anything else is a new ``schema_version``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]

    def partition_key(self) -> str:
        """The aggregate id that orders this event; becomes the Kafka key and the CloudEvents subject."""
        raise NotImplementedError(f"{type(self).__name__} must define partition_key()")

    @classmethod
    def data_schema_path(cls) -> str:
        """Where the owning service serves this payload's JSON Schema: ``/schemas/<type>/v<version>``."""
        return f"{SCHEMA_PATH}/{cls.event_type}/v{cls.schema_version}"

    @classmethod
    def data_schema_uri(cls, base: str | None = None) -> str:
        """The ``dataschema`` of this payload's events: the URL of its JSON Schema under ``base`` (the owning
        service's public URL), or without a base the schema's stable URN (its ``$id``)."""
        if base is None:
            return cls.schema_urn()
        return base.rstrip("/") + cls.data_schema_path()

    @classmethod
    def schema_urn(cls) -> str:
        """The permanent identifier of this payload's JSON Schema (its ``$id``; the ``dataschema`` of events
        published before the schemas were served)."""
        return f"urn:siaga:jsonschema:{cls.event_type}:v{cls.schema_version}"


SCHEMA_PATH = "/schemas"
_SCHEMA_URL = re.compile(r"/schemas/(?P<type>[A-Za-z0-9._-]+)/v(?P<version>[1-9][0-9]*)$")
_SCHEMA_URN = re.compile(r"^urn:siaga:jsonschema:(?P<type>[A-Za-z0-9._-]+):v(?P<version>[1-9][0-9]*)$")


def data_schema_ref(uri: str | None) -> tuple[str, int] | None:
    """``(type, version)`` named by a ``dataschema``, in either form a consumer may meet: the served URL
    (``https://host/schemas/<type>/v<n>``, or only its path) or the older ``urn:siaga:jsonschema:<type>:v<n>``.
    ``None`` for anything else (``dataschema`` is informative: consumers never reject an event for it)."""
    if not uri:
        return None
    match = _SCHEMA_URN.match(uri) or _SCHEMA_URL.search(uri.split("?", 1)[0].split("#", 1)[0])
    return (match["type"], int(match["version"])) if match else None


class Envelope(BaseModel, Generic[D]):
    """A CloudEvents 1.0 event with Siaga's extension attributes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = Field(SPEC_VERSION, description="CloudEvents specification version.")
    id: str = Field(
        description="Unique event id, a time-ordered UUIDv7; consumers deduplicate on it.",
        examples=["0192f5c4-5b7e-7cc2-9a6e-2f4b1c8d9e01"],
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
    )
    source: str = Field(
        description="URI reference of the producing service.", examples=["/siaga/logistics"], min_length=1
    )
    type: str = Field(
        description="Event type, past tense.", examples=["siaga.logistics.shipment-delayed"], min_length=1
    )
    time: Timestamp = Field(description="When the fact happened (RFC 3339, with offset).")
    subject: str | None = Field(
        None, description="The aggregate the event is about.", examples=["shp-65.01-0001"], max_length=200
    )
    datacontenttype: Literal["application/json"] = Field(DATA_CONTENT_TYPE, description="Media type of data.")
    dataschema: str | None = Field(
        None,
        description="URI of the JSON Schema of data: the owning service's <base>/schemas/<type>/v<n> "
        "(older events: urn:siaga:jsonschema:<type>:v<n>; consumers accept both).",
        examples=["http://localhost:8102/schemas/siaga.logistics.shipment-delayed/v1"],
    )
    schemaversion: int = Field(1, ge=1, description="Siaga extension: major version of the data schema.")
    partitionkey: str = Field(
        description="CloudEvents partitioning extension: the Kafka record key (aggregate id).",
        min_length=1,
        max_length=200,
    )
    correlationid: str | None = Field(
        None, description="Siaga extension: id shared by every event of one business flow.", max_length=64
    )
    causationid: str | None = Field(
        None, description="Siaga extension: id of the event or request that caused this one.", max_length=64
    )
    data: D = Field(description="The event payload.")

    @classmethod
    def wrap(
        cls,
        data: E,
        *,
        source: str,
        schema_base: str | None = None,
        time: datetime | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        event_id: str | None = None,
    ) -> Envelope[E]:
        """Build the envelope for a payload; the payload's class supplies type, version and key, and
        ``schema_base`` (the owning service's public URL) the base of its ``dataschema`` URL."""
        key = data.partition_key()
        typed: type[Envelope[E]] = Envelope[type(data)]  # type: ignore[misc,assignment]  # parametrised at run time
        return typed(
            id=event_id or new_event_id(),
            source=source,
            type=data.event_type,
            time=time or utcnow(),
            subject=key,
            dataschema=data.data_schema_uri(schema_base),
            schemaversion=data.schema_version,
            partitionkey=key,
            correlationid=correlation_id,
            causationid=causation_id,
            data=data,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [("content-type", CONTENT_TYPE.encode())]


AnyEnvelope: TypeAlias = Envelope[EventData]
"""An envelope of any published event type, for code that routes, stores or forwards events.

A static type only: at run time a decoded event is an ``Envelope[<its payload class>]``, which is not a
subclass of ``Envelope[EventData]``: narrow with ``isinstance(env.data, SomeEvent)``, never with
``isinstance(env, AnyEnvelope)``."""
