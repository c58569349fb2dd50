"""A service app served over real HTTP on a loopback port, from a thread: its lifespan (Kafka, FerretDB,
relay, consumers, timers) runs in that thread's event loop, so synchronous clients (schemathesis, a
generated API client) can call it like an agency's system would."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

__all__ = ["SERVICES", "build_service", "isolated_env", "served"]

SERVICES = ("meetings", "logistics", "notifications")


def isolated_env(service: str) -> dict[str, Any]:
    """Settings of a service under test on the real servers, isolated by topic prefix and database."""
    isolation = f"t{uuid.uuid4().hex[:10]}"
    return {
        "service_name": service,
        "kafka_bootstrap_servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        "mongodb_url": os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017"),
        "mongodb_database": f"{isolation}_{service}",
        "kafka_topic_prefix": f"{isolation}.",
        "kafka_group_prefix": isolation,
        "auth_dev_tokens": True,
        "log_json": False,
        "batch_timeout_ms": 50,
        "shutdown_timeout_s": 10,
    }


@contextmanager
def served(app: FastAPI, *, startup_timeout: float = 120.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=10
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout  # a guard against a hang, not a measurement
        while not server.started:
            if not thread.is_alive():
                raise AssertionError("the service did not start (see its log above)")
            if time.monotonic() > deadline:
                raise AssertionError(f"the service did not start within {startup_timeout:.0f}s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def build_service(service: str) -> FastAPI:
    """The service's app on the real servers, isolated, with its sweeps effectively off (a test drives it)."""
    env = isolated_env(service)
    if service == "meetings":
        from siaga_meetings.app import build_app as build_meetings
        from siaga_meetings.settings import MeetingsSettings

        return build_meetings(MeetingsSettings(**env, sweep_interval_s=3600))
    if service == "logistics":
        from siaga_logistics.app import build_app as build_logistics
        from siaga_logistics.settings import LogisticsSettings

        return build_logistics(
            LogisticsSettings(**env, delay_sweep_interval_s=3600, risk_sweep_interval_s=3600)
        )
    from siaga_notifications.app import build_app as build_notifications
    from siaga_notifications.settings import NotificationsSettings

    return build_notifications(NotificationsSettings(**env, sweep_interval_s=3600, delivery_poll_s=3600))
