"""``python -m bench console``: time to first render and transfer size of each console view on seeded data.

The stack of the browser tests (the three services and the console as their own processes on loopback), the
compact scenario played against it, and a fraction of the national plan (0.005 by default) imported with the CLI KPU uses
(every province has plans, so the tile map is full). Each view is loaded in a fresh chromium profile (cold
cache) and then again (warm), ``ROUNDS`` times; the medians go to ``bench/results/console.md``. One more
cold load runs on an emulated slow link (400 kbit/s, 400 ms round trip).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.console.conftest import CHROMIUM, FLAGS
from tests.console.stack import NATIONAL_DESK, ROOT, STATE, Stack

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 5
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 200_000 / 8}
NATIONAL_ELECTION = "nasional"
VIEWS = {
    "Kesiapan: nasional (the national fraction, 38 provinces)": f"/kesiapan?election={NATIONAL_ELECTION}",
    "Kesiapan: province (Jawa Timur, the national fraction)": f"/kesiapan?region=35&election={NATIONAL_ELECTION}",
    "Kesiapan: kab/kota (Bulungan, scenario)": "/kesiapan?region=65.01",
    "Laporan (38 kab/kota, 2 periods)": "/laporan",
    "Rakor (1 rakor with its action items)": "/rakor",
    "Peringatan (open alerts of the scenario)": "/peringatan",
}
TIMING = """async () => {
  // The first contentful paint may be recorded after the load event: wait for it (at most 5 s).
  const paint = () => performance.getEntriesByName('first-contentful-paint')[0];
  const fcp = paint() || await new Promise(resolve => {
    const seen = new PerformanceObserver(list => {
      const e = list.getEntriesByName('first-contentful-paint')[0];
      if (e) { seen.disconnect(); resolve(e); }
    });
    seen.observe({type: 'paint', buffered: true});
    setTimeout(() => { seen.disconnect(); resolve(paint() || null); }, 5000);
  });
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {
    ttfb: nav.responseStart - nav.requestStart,
    fcp: fcp ? fcp.startTime : null,
    dcl: nav.domContentLoadedEventEnd,
    transfer: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
    html: nav.encodedBodySize,
    html_decoded: nav.decodedBodySize,
    requests: 1 + res.length,
  };
}"""


def _say(message: str) -> None:
    print(f"bench console: {message}", file=sys.stderr, flush=True)


def _import_national(stack: Stack, fraction: float) -> dict[str, Any]:
    from siaga_logistics.importing.national import write_national_csv

    csv = STATE / f"rencana-{fraction}.csv"
    write_national_csv(csv, fraction=fraction, voting_day=date(2024, 11, 27))
    env = {**os.environ, "SIAGA_TOKEN": NATIONAL_DESK, "SIAGA_LOGISTICS_URL": stack.url("logistics")}
    cmd = [sys.executable, "-m", "siaga_logistics", "import", str(csv), "--election", NATIONAL_ELECTION]
    cmd += ["--voting-day", "2024-11-27", "--json", "--rejected-out", str(STATE / "rejected.csv")]
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"import failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "tps": summary.get("tps_added"),
        "plans": summary.get("plans_created"),
        "s": time.monotonic() - started,
    }


def _backlog(url: str) -> float:
    """Records a service has still to consume, plus events its outbox has still to publish."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(("siaga_consumer_lag_records{", "siaga_outbox_backlog_events{")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _wait_caught_up(stack: Stack, budget_s: float = 900.0) -> float:
    """Wait (bounded) until logistics and notifications have digested the import: no lag and no outbox
    backlog at three polls in a row, so that the views measure the console, not a backlog."""
    started = time.monotonic()
    quiet = 0
    while quiet < 3:
        if time.monotonic() - started > budget_s:
            raise RuntimeError(f"the services did not catch up with the import within {budget_s:.0f} s")
        left = sum(_backlog(stack.url(name)) for name in ("logistics", "notifications"))
        quiet = quiet + 1 if left == 0 else 0
        time.sleep(1.0)
    return time.monotonic() - started


def _session_cookie(p: Any, stack: Stack) -> dict[str, Any]:
    context = p.chromium.launch_persistent_context(
        tempfile.mkdtemp(), executable_path=str(CHROMIUM), headless=True, args=FLAGS
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{stack.console}/masuk")
        page.fill("#token", NATIONAL_DESK)
        page.click("button[type=submit]")
        page.wait_for_url("**/kesiapan")
        cookie: dict[str, Any] = next(c for c in context.cookies() if c["name"] == "siaga_session")
        return cookie
    finally:
        context.close()


def _load(
    p: Any, stack: Stack, cookie: dict[str, Any], path: str, *, slow: bool = False
) -> list[dict[str, Any]]:
    """A cold load (fresh profile) and a warm one (same profile, cached assets)."""
    context = p.chromium.launch_persistent_context(
        tempfile.mkdtemp(),
        executable_path=str(CHROMIUM),
        headless=True,
        args=FLAGS,
        viewport={"width": 390, "height": 844},
    )
    try:
        context.add_cookies([cookie])
        page = context.pages[0] if context.pages else context.new_page()
        if slow:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW)
        out = []
        for _ in range(1 if slow else 2):
            page.goto(f"{stack.console}{path}", wait_until="load")
            out.append(page.evaluate(TIMING))
        return out
    finally:
        context.close()


def _screenshot(p: Any, stack: Stack, cookie: dict[str, Any], path: str, name: str) -> None:
    """The view at desktop width, under .devstack/screenshots/ (the README's picture comes from here)."""
    context = p.chromium.launch_persistent_context(
        tempfile.mkdtemp(),
        executable_path=str(CHROMIUM),
        headless=True,
        args=FLAGS,
        viewport={"width": 1100, "height": 900},
    )
    try:
        context.add_cookies([cookie])
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{stack.console}{path}")
        shots = ROOT / ".devstack" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    finally:
        context.close()


def _scenario_views() -> dict[str, str]:
    """The same views on the scenario's own election only (no national import)."""
    return {
        name.split(" (")[0] + " (scenario)": path.replace(
            f"election={NATIONAL_ELECTION}", "election=pilkada2024"
        )
        for name, path in VIEWS.items()
    }


def _national(imported: dict[str, Any], fraction: float) -> str:
    if fraction <= 0:
        return ""
    return (
        f" and {fraction} of the national plan ({imported['tps']:,} TPS in {imported['plans']} kab/kota plans, "
        f"imported in {imported['s']:.0f} s; the views loaded once the services had caught up, "
        f"{imported.get('caught_up_s', 0):.0f} s later)"
    )


def _median(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else float("nan")


def run(fraction: float = 0.005) -> Path:
    from playwright.sync_api import sync_playwright

    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    mongodb = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017")
    stack = Stack(kafka, mongodb)
    started = datetime.now(UTC)
    stack.start()
    try:
        _say("stack up; playing the scenario")
        stack.play()
        imported: dict[str, Any] = {"tps": 0, "plans": 0, "s": 0.0}
        if fraction > 0:
            _say(f"importing {fraction} of the national plan")
            imported = _import_national(stack, fraction)
            imported["caught_up_s"] = _wait_caught_up(stack)
        _say(f"imported {imported}; loading the views")
        with sync_playwright() as p:
            cookie = _session_cookie(p, stack)
            rows = []
            views = VIEWS if fraction > 0 else _scenario_views()
            for name, path in views.items():
                _say(name)
                cold, warm = [], []
                for _ in range(ROUNDS):
                    first, second = _load(p, stack, cookie, path)
                    cold.append(first)
                    warm.append(second)
                slow = _load(p, stack, cookie, path, slow=True)[0]
                rows.append((name, path, cold, warm, slow))
            _screenshot(p, stack, cookie, next(iter(views.values())), "bench-kesiapan-nasional")
    finally:
        stack.stop()
    return _write(rows, imported, fraction, started)


def _write(rows: list[Any], imported: dict[str, Any], fraction: float, started: datetime) -> Path:
    lines = [
        "# Console: time to first render and transfer size per view",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.python_version()}, Debian "
        f"chromium headless, 390 px viewport), services and console on loopback (`python -m bench console`). "
        f"Data: the compact scenario of the browser tests{_national(imported, fraction)}. "
        f"Medians of {ROUNDS} loads; *cold*: a fresh profile (HTML, CSS, JS, icon), *warm*: the same page again "
        "(assets cached). *First render*: first contentful paint. *Slow link*: one cold load at 400 kbit/s "
        "with 400 ms round trip (Chromium network emulation). Sizes are bytes on the wire (gzip).",
        "",
        "| view | server (TTFB) ms | first render cold ms | first render warm ms | cold transfer KB | warm transfer KB | HTML KB (unzipped) | requests | first render, slow link ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, _path, cold, warm, slow in rows:
        lines.append(
            f"| {name} | {_median(cold, 'ttfb'):.0f} | {_median(cold, 'fcp'):.0f} | {_median(warm, 'fcp'):.0f} | "
            f"{_median(cold, 'transfer') / 1024:.1f} | {_median(warm, 'transfer') / 1024:.1f} | "
            f"{_median(cold, 'html') / 1024:.1f} ({_median(cold, 'html_decoded') / 1024:.0f}) | "
            f"{_median(cold, 'requests'):.0f} | {slow['fcp'] or float('nan'):.0f} |"
        )
    lines += [
        "",
        "Every asset is served by the console itself (one stylesheet, one script, one icon; no framework, no font).",
        "The server time is the console reading the services' APIs with the viewer's token and rendering the page.",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "console.md"
    out.write_text("\n".join(lines))
    return out


def main(argv: list[str]) -> int:
    fraction = float(argv[0]) if argv else 0.005
    print(run(fraction).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
