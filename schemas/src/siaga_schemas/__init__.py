"""Siaga event contracts: the envelope, payload models, region codes and the topic registry."""

from . import events
from .codec import DeadLetterReason, EventRegistry, InvalidEvent, decode_event, registry
from .envelope import CONTENT_TYPE, AnyEnvelope, Envelope, EventData, new_event_id, utcnow
from .regions import RegionCode, RegionInfo, RegionLevel, is_within, region_info, validate_region_code
from .topics import TOPICS, TopicSpec, dead_letter_topic, topic

__all__ = [
    "CONTENT_TYPE",
    "TOPICS",
    "AnyEnvelope",
    "DeadLetterReason",
    "Envelope",
    "EventData",
    "EventRegistry",
    "InvalidEvent",
    "RegionCode",
    "RegionInfo",
    "RegionLevel",
    "TopicSpec",
    "dead_letter_topic",
    "decode_event",
    "events",
    "is_within",
    "new_event_id",
    "region_info",
    "registry",
    "topic",
    "utcnow",
    "validate_region_code",
]
