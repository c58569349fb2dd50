"""Composition root of the notifications service: stores, consumed topics, timers, channels and routes."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta
from functools import partial

import httpx
from fastapi import FastAPI
from siaga_runtime import Clock, Doc, DueIndex, ServiceRuntime, make_http_app
from siaga_runtime.consumer import AnyProjection
from siaga_schemas import Envelope
from siaga_schemas.events.notifications import AlertNotification
from siaga_schemas.topics import LOGISTICS_EVENTS, MEETINGS_EVENTS, NOTIFICATIONS_ALERTS, NOTIFICATIONS_EVENTS

from . import handlers
from .api import make_admin_router, make_alertmanager_router, make_alerts_router, make_public_router
from .channels import (
    ActionLinks,
    ChannelSender,
    EmailSender,
    TelegramSender,
    TopicSender,
    WebhookSender,
    WhatsAppSender,
)
from .config import load_routing
from .domain.routing import CHANNELS, RoutingConfig
from .domain.sources import RAISING, RESOLVING
from .metrics import NotificationMetrics
from .redact import redact_access_log
from .repository import Stores
from .settings import NotificationsSettings
from .workers import DeliveryWorker, Engine

__all__ = ["build_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """Alerts from Siaga's logistics and meetings events and from Prometheus Alertmanager: routing,
grouping, inhibition, silences, escalation chains with acknowledgement (plain, or muted until the alert resolves), and delivery by signed
webhook, e-mail, Telegram, WhatsApp and the siaga.notifications.alerts.v1 topic, with a durable audit log of
every notification.

Every firing notification carries signed, single-use acknowledge links bound to the alert and the
recipient (``/public/ack/{token}``: a page, then a form POST), and Telegram and WhatsApp messages carry
buttons answered through ``/public/telegram/webhook`` and ``/public/whatsapp/webhook``. These public
endpoints authenticate what they carry instead of a bearer token and are described in the README.

Auth: bearer token. Operators act for their own region; organisers within theirs (contacts need organiser);
readers read within theirs. Alerts without a region are national."""


class AlertNotificationEnvelope(Envelope[AlertNotification]):
    """A CloudEvent carrying one rendered alert notification (a named model, so AsyncAPI references resolve)."""


class Channels:
    """Channel clients, created in the lifespan and closed after the runtime stopped."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.senders: dict[str, ChannelSender] = {}

    async def open(self) -> None:
        s = self.settings
        timeout = httpx.Timeout(s.channel_timeout_s)
        self.senders = {
            "webhook": WebhookSender(
                httpx.AsyncClient(timeout=timeout),
                s.webhook_secret.get_secret_value().encode(),
                s.webhook_url,
            ),
            "telegram": TelegramSender(
                httpx.AsyncClient(timeout=timeout),
                s.telegram_base_url,
                s.telegram_token.get_secret_value() if s.telegram_token else None,
            ),
            "email": EmailSender(
                host=s.smtp_host,
                port=s.smtp_port,
                sender=s.smtp_from,
                user=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                starttls=s.smtp_starttls,
                timeout=s.channel_timeout_s,
            ),
            "whatsapp": WhatsAppSender(
                httpx.AsyncClient(timeout=timeout),
                s.whatsapp_base_url,
                s.whatsapp_phone_number_id,
                s.whatsapp_token.get_secret_value() if s.whatsapp_token else None,
            ),
            "topic": TopicSender(),
        }

    def get(self, name: str) -> ChannelSender | None:
        return self.senders.get(name)

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()
        self.senders = {}


def ack_key(settings: NotificationsSettings) -> bytes:
    """The acknowledge links' signing key: ACK_LINK_SECRET, or a random one of this process."""
    if settings.ack_link_secret is not None:
        return settings.ack_link_secret.get_secret_value().encode()
    log.warning("ACK_LINK_SECRET is not set: acknowledge links are signed with a key of this process only")
    return secrets.token_bytes(32)


def _subscribe(runtime: ServiceRuntime, stores: Stores, config: RoutingConfig, timers: DueIndex) -> None:
    """The projections of the consumed topics, in order (the timers after the writes they point at)."""
    fanout = handlers.route_count(config)
    projections: list[AnyProjection] = [
        handlers.alert_projection(stores, config, runtime.clock),
        handlers.notice_projection(stores, config, runtime.clock),
        *handlers.group_projections(stores, config, runtime.clock, fanout),
        handlers.timer_projection(timers, config, runtime.clock, fanout),
    ]
    accept = RAISING | RESOLVING
    for topic, prefix in ((LOGISTICS_EVENTS, "siaga.logistics."), (MEETINGS_EVENTS, "siaga.meetings.")):
        runtime.subscribe(topic, projections, accept={t for t in accept if t.startswith(prefix)})


def _workers(
    runtime: ServiceRuntime,
    settings: NotificationsSettings,
    stores: Stores,
    channels: Channels,
    metrics: NotificationMetrics,
    bucket: timedelta,
    links: ActionLinks,
) -> list[DeliveryWorker]:
    """One delivery worker per channel, each with its own due index, rate limit and loop."""
    owner = f"{settings.service_name}-{settings.instance_id}-{uuid.uuid4().hex[:6]}"
    workers = []
    for name in CHANNELS:
        worker = DeliveryWorker(
            name,
            stores.deliveries,
            runtime.clock,
            owner,
            sender=partial(channels.get, name),
            rate_per_s=settings.channel_rate_per_s,
            timeout_s=settings.channel_timeout_s,
            max_attempts=settings.delivery_max_attempts,
            backoff_s=settings.delivery_backoff_s,
            backoff_max_s=settings.delivery_backoff_max_s,
            lease_s=settings.delivery_lease_s,
            timers=runtime.due_index(f"due_{name}", bucket=bucket),
            full_scan_interval_s=settings.full_scan_interval_s,
            metrics=metrics,
            links=links,
        )
        workers.append(worker)
        # not leased: every instance sends, and each attempt is claimed by a guarded write on the delivery
        # (``domain.deliveries.claim``), so two instances sweeping the same timers send once
        runtime.every(settings.delivery_poll_s, worker.run_once, f"deliver-{name}")
    return workers


def build_app(
    settings: NotificationsSettings | None = None,
    *,
    clock: Clock | None = None,
    routing_config: RoutingConfig | None = None,
) -> FastAPI:
    """The composition root: stores, subscriptions, the timers engine, the channel workers and the API."""
    settings = settings or NotificationsSettings()
    redact_access_log()  # the links' tokens never reach the access log
    config = routing_config or load_routing(settings.routing_file)  # a bad file stops start-up, by line
    runtime = ServiceRuntime(settings, clock=clock)
    stores = Stores(
        alerts=runtime.store("alerts"),
        groups=runtime.store("groups"),
        deliveries=runtime.store("deliveries"),
        silences=runtime.store("silences"),
        contacts=runtime.store("contacts"),
        tokens=runtime.store("ack_tokens"),
    )
    runtime.publisher(NOTIFICATIONS_EVENTS)
    runtime.publisher(NOTIFICATIONS_ALERTS, schema=AlertNotificationEnvelope)
    bucket = timedelta(seconds=settings.timer_bucket_s)
    timers = runtime.due_index("timers", bucket=bucket)
    _subscribe(runtime, stores, config, timers)
    channels = Channels(settings)
    metrics = NotificationMetrics(runtime.registry)
    workers: list[DeliveryWorker] = []

    async def enqueue(deliveries: list[Doc]) -> None:
        for worker in workers:
            await worker.enqueue(deliveries)

    engine = Engine(
        stores,
        config,
        runtime.clock,
        default_language=settings.default_language,
        timers=timers,
        full_scan_interval_s=settings.full_scan_interval_s,
        sweep_every_s=settings.sweep_interval_s,
        on_deliveries=enqueue,
        metrics=metrics,
    )
    runtime.every(settings.sweep_interval_s, engine.tick, "notifications-sweep", leased=True)
    links = ActionLinks(ack_key(settings), settings.public_url, settings.ack_link_ttl_s)
    workers.extend(_workers(runtime, settings, stores, channels, metrics, bucket, links))
    app = make_http_app(
        runtime,
        title="Siaga notifications",
        description=DESCRIPTION,
        routers=[
            make_alerts_router(stores, runtime.clock),
            make_admin_router(stores, runtime.clock),
            make_alertmanager_router(stores, engine, config, runtime.clock),
            make_public_router(stores, runtime.clock, settings, channels.get, links.key),
        ],
        on_startup=[channels.open],
        on_shutdown=[channels.close],
    )
    app.state.stores = stores
    app.state.engine = engine
    app.state.routing = config
    app.state.workers = workers
    return app
