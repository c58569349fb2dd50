"""Fixtures of the browser tests: the real stack (services, console) with the compact scenario played, and
Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import Servers
from .stack import ROOT, Stack

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / ".devstack" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: the console's services stop after its tests, and Playwright's sync API holds
# an event loop running in this thread for as long as it is open, which would make every later asyncio
# test fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def stack(servers: Servers) -> Iterator[Stack]:
    s = Stack(servers.kafka_bootstrap, servers.mongodb_url)
    s.start()
    try:
        progress = s.play()
        failed = [line for _, line in progress.log if "FAILED" in line]
        assert not failed, failed
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: deploy/setup/apt-packages.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright_driver: Any) -> Iterator[Callable[..., Any]]:
    """``browser(width=1200)``: a fresh chromium profile (its own user-data-dir) and a page in it."""
    opened: list[tuple[Any, str]] = []

    def open_page(width: int = 1200, height: int = 900) -> Any:
        profile = tempfile.mkdtemp(prefix="siaga-chromium-")
        context = playwright_driver.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
            locale="id-ID",
        )
        opened.append((context, profile))
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield open_page
    for context, profile in opened:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots() -> Callable[[Any, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
