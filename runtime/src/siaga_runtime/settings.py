"""Settings from environment variables (pydantic-settings). Secrets are ``SecretStr`` and never logged."""

from __future__ import annotations

import os
import socket
import ssl
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .clock import AcceleratedClock, Clock, SystemClock

__all__ = ["RuntimeSettings", "default_instance_id", "redact_url"]


def default_instance_id() -> str:
    """``<hostname>-<pid>``: unique among the instances of a service on one host or across hosts."""
    return f"{socket.gethostname()}-{os.getpid()}"


def redact_url(url: str) -> str:
    """``mongodb://user:secret@host/db`` → ``mongodb://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class RuntimeSettings(BaseSettings):
    """What every Siaga service reads from its environment. Services subclass it for their own settings."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = Field("siaga", description="Service name, used in logs, metrics and event sources.")
    instance_id: str = Field(
        default_factory=default_instance_id,
        min_length=1,
        description="This instance of the service (several run side by side): the 'instance' label of its "
        "metrics and the holder name of its leases. Default <hostname>-<pid>.",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle for TLS to Kafka.")
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    kafka_group_prefix: str = Field("siaga", description="Consumer group ids are '<prefix>.<service>'.")
    kafka_topic_prefix: str = Field("", description="Prefix for every topic name (isolates test runs).")
    kafka_create_topics: bool = Field(True, description="Create registered topics at start-up.")
    kafka_replication_factor: int | None = Field(
        None,
        ge=1,
        description="Replication factor of the topics the service creates; unset: the cluster's "
        "default.replication.factor (3 on the devstack's cluster and in compose's replicated profile).",
    )
    kafka_acks: Literal["all", "1", "0"] = Field(
        "all",
        description="Producer acknowledgements. 'all' (the default) waits for every in-sync replica, at "
        "least min.insync.replicas, and enables the idempotent producer; '1' and '0' turn idempotence off "
        "and can lose acknowledged events when a leader dies.",
    )
    kafka_group_protocol: Literal["classic"] = Field(
        "classic",
        description="Consumer group protocol. Only 'classic' (JoinGroup/SyncGroup): aiokafka 0.14 has no "
        "KIP-848 'consumer' protocol (no ConsumerGroupHeartbeat API); see the README.",
    )
    kafka_partition_assignor: Literal["roundrobin", "sticky", "range"] = Field(
        "roundrobin",
        description="Client-side partition assignor of the classic protocol. 'roundrobin' (the default) "
        "spreads each topic's partitions evenly over the instances; 'sticky' keeps partitions where they "
        "were across a rebalance, but delayed the services' end-to-end exercise here (see the README). "
        "Every member of a group must offer the same one: change it for all instances at once.",
    )
    mongodb_url: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017"), description="MongoDB URL; may contain credentials."
    )
    mongodb_database: str = Field("siaga", description="Database owned by this service.")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str | None = Field(
        None,
        description="Base URL at which agencies reach this service's HTTP API (events' dataschema URLs "
        "point at its /schemas routes); default http://localhost:<http_port>.",
    )
    log_level: str = "INFO"
    log_json: bool = True
    batch_max_records: int = Field(
        20_000,
        ge=1,
        description="Most records per consumed batch. A batch takes what has arrived, so a consumer that "
        "keeps up handles small ones; under a backlog, a document touched by several records of a batch "
        "is read, decided and written once for all of them.",
    )
    max_partition_fetch_bytes: int = Field(
        2**20,
        ge=2**16,
        description="Most bytes fetched from one partition at a time. A batch is what the fetches of all "
        "assigned partitions brought, so keep their sum near a full batch: then every batch holds the same "
        "stretch of time from every partition, and a document's records (keyed by shipment, spread over "
        "the partitions) meet in it. At 4 MB a batch of 20,000 held three or four partitions, and a desa "
        "chunk took 2.6 scans per write at 0.1 of the nation instead of 8.0 at 0.01.",
    )
    batch_timeout_ms: int = Field(100, ge=1, description="Longest wait to fill a batch.")
    handler_retries: int = Field(
        3, ge=0, description="Retries of a failing event before it is dead-lettered."
    )
    shutdown_timeout_s: float = Field(20.0, gt=0, description="Bound on graceful shutdown.")
    outbox_max_backlog: int = Field(
        50_000,
        ge=1,
        description="Events saved and not yet published beyond which the consumers and imports wait for the "
        "outbox relay before taking more work (bounds the memory they hold).",
    )
    outbox_stale_after_s: float = Field(
        30.0,
        gt=0,
        description="An outbox journal record this old is taken for a crashed replica's and published by "
        "whichever replica finds it.",
    )
    lease_ttl_s: float = Field(
        15.0,
        gt=0,
        description="How long a periodic job's lease lasts unless renewed (every third of it): the longest "
        "a job stands still after its instance dies.",
    )
    startup_wait_s: float = Field(
        15.0,
        gt=0,
        description="How long start-up waits for the outbox recovery and the consumers before the service "
        "serves HTTP anyway (reporting not ready), e.g. while MongoDB is away.",
    )
    gc_young_threshold: int = Field(
        50_000,
        ge=1,
        description="Net container allocations between young passes of CPython's cyclic collector (its "
        "default is 700). With a large live heap, every pass walks more, so the default's cost grows with "
        "the heap; reference counting still frees acyclic garbage at once.",
    )
    store_cache_mb: float = Field(
        32.0,
        ge=0,
        description="Memory each store's write-through cache may take, in MB of decoded documents (0: none).",
    )
    auth_tokens_file: str | None = Field(
        None, description="YAML file of API tokens (hashed) and their scopes."
    )
    auth_dev_tokens: bool = Field(False, description="Accept the well-known demo tokens (local runs only).")
    clock_start: datetime | None = Field(
        None, description="Scenario time at CLOCK_EPOCH (aware ISO 8601); unset: the real clock."
    )
    clock_epoch: datetime | None = Field(
        None, description="Wall time at which the scenario clock reads CLOCK_START (default: start-up)."
    )
    clock_factor: float = Field(
        1.0, gt=0, description="How much faster than the wall clock scenario time runs."
    )

    def schema_base_url(self) -> str:
        """Base of the ``dataschema`` URL of the events this service owns (``<base>/schemas/<type>/v<n>``)."""
        return (self.public_url or f"http://localhost:{self.http_port}").rstrip("/")

    def mongodb_url_redacted(self) -> str:
        return redact_url(self.mongodb_url.get_secret_value())

    def make_clock(self) -> Clock:
        """The real clock, or the shared accelerated scenario clock when ``CLOCK_START`` is set."""
        if self.clock_start is None:
            return SystemClock()
        return AcceleratedClock(self.clock_start, self.clock_factor, epoch=self.clock_epoch)

    def topic_name(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def bootstrap_list(self) -> list[str]:
        """``KAFKA_BOOTSTRAP_SERVERS`` as a list: FastStream takes a comma-separated string for one host."""
        return [b.strip() for b in self.kafka_bootstrap_servers.split(",") if b.strip()]

    def producer_kwargs(self) -> dict[str, Any]:
        """``acks`` and idempotence for aiokafka producers (idempotence needs acks=all)."""
        acks: int | str = "all" if self.kafka_acks == "all" else int(self.kafka_acks)
        return {"acks": acks, "enable_idempotence": self.kafka_acks == "all"}

    def partition_assignors(self) -> tuple[Any, ...]:
        """The aiokafka assignor class of ``kafka_partition_assignor``."""
        from aiokafka.coordinator.assignors.range import RangePartitionAssignor
        from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
        from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

        return (
            {
                "sticky": StickyPartitionAssignor,
                "roundrobin": RoundRobinPartitionAssignor,
                "range": RangePartitionAssignor,
            }[self.kafka_partition_assignor],
        )

    def group_id(self, suffix: str = "") -> str:
        return f"{self.kafka_group_prefix}.{self.service_name}{'.' + suffix if suffix else ''}"

    def kafka_security_kwargs(self) -> dict[str, Any]:
        """Arguments for aiokafka clients; empty for PLAINTEXT."""
        proto = self.kafka_security_protocol
        kwargs: dict[str, Any] = {"security_protocol": proto}
        if proto in ("SSL", "SASL_SSL"):
            ctx = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
            if self.kafka_ssl_certfile:
                ctx.load_cert_chain(self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
            kwargs["ssl_context"] = ctx
        if proto.startswith("SASL"):
            kwargs["sasl_mechanism"] = self.kafka_sasl_mechanism
            kwargs["sasl_plain_username"] = self.kafka_sasl_username
            kwargs["sasl_plain_password"] = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None
            )
        return kwargs

    def faststream_security(self) -> Any:
        """The same security, as FastStream's security object (``None`` for PLAINTEXT)."""
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        kw = self.kafka_security_kwargs()
        ctx = kw.get("ssl_context")
        proto = self.kafka_security_protocol
        if proto == "PLAINTEXT":
            return None
        if proto == "SSL":
            return BaseSecurity(ssl_context=ctx)
        user = self.kafka_sasl_username or ""
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        cls = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[
            self.kafka_sasl_mechanism
        ]
        return cls(username=user, password=password, ssl_context=ctx, use_ssl=proto == "SASL_SSL")

    def safe_summary(self) -> dict[str, Any]:
        """Settings fit for a log line: secrets masked."""
        data = self.model_dump()
        data["mongodb_url"] = self.mongodb_url_redacted()
        if data.get("kafka_sasl_password"):
            data["kafka_sasl_password"] = "***"  # noqa: S105 (the mask, not a password)
        return data
