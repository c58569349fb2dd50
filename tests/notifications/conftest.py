"""Fixtures: settings isolated per test, a loopback SMTP server and a loopback HTTP receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pydantic import SecretStr
from siaga_devstack.receivers import Receivers
from siaga_notifications.settings import NotificationsSettings

from .support import (
    ACK_SECRET,
    PUBLIC_URL,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    WEBHOOK_SECRET,
    WHATSAPP_APP_SECRET,
    WHATSAPP_VERIFY,
    HttpReceiver,
    Inbox,
    free_port,
)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    server = receiver.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def notif_settings(
    runtime_env: Callable[[str], dict[str, str]], smtp: tuple[Inbox, int], http_receiver: HttpReceiver
) -> NotificationsSettings:
    env = {k.lower(): v for k, v in runtime_env("notifications").items()}
    return NotificationsSettings(
        **env,  # type: ignore[arg-type]
        sweep_interval_s=0.3,
        delivery_poll_s=0.2,
        smtp_port=smtp[1],
        webhook_url=f"http://127.0.0.1:{http_receiver.port}/siaga",
        webhook_secret=WEBHOOK_SECRET,
        telegram_base_url=f"http://127.0.0.1:{http_receiver.port}",
        telegram_token=TELEGRAM_TOKEN,
        delivery_backoff_s=5.0,
    )


@pytest.fixture
def chat() -> Iterator[Receivers]:
    """The devstack's local receiver of the Telegram Bot API and WhatsApp Cloud API shapes (and webhooks)."""
    receivers = Receivers(webhook_secret=WEBHOOK_SECRET)
    receivers.start()
    try:
        yield receivers
    finally:
        receivers.stop()


@pytest.fixture
def chat_settings(notif_settings: NotificationsSettings, chat: Receivers) -> NotificationsSettings:
    """Telegram, WhatsApp and webhooks through the devstack receiver; acknowledge links to the test app."""
    base = f"http://127.0.0.1:{chat.port}"
    return notif_settings.model_copy(
        update={
            "webhook_url": f"{base}/siaga",
            "telegram_base_url": base,
            "telegram_token": SecretStr(chat.telegram_token),
            "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
            "whatsapp_base_url": f"{base}/v21.0",
            "whatsapp_phone_number_id": chat.whatsapp_phone_id,
            "whatsapp_token": SecretStr(chat.whatsapp_token),
            "whatsapp_app_secret": SecretStr(WHATSAPP_APP_SECRET),
            "whatsapp_verify_token": SecretStr(WHATSAPP_VERIFY),
            "public_url": PUBLIC_URL,
            "ack_link_secret": SecretStr(ACK_SECRET),
            "ack_link_ttl_s": 3600.0,
        }
    )
