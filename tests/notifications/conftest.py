"""Fixtures: settings isolated per test, a loopback SMTP server and a loopback HTTP receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from siaga_notifications.settings import NotificationsSettings

from .support import TELEGRAM_TOKEN, WEBHOOK_SECRET, HttpReceiver, Inbox, free_port


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
