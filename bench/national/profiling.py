"""Profiler evidence for the national benchmark: py-spy samples of every service process, and the CPU time
each process of the stack (services, FerretDB, Kafka, the benchmark itself) used in each phase.

py-spy samples a running process from outside (no code in the services), so what it shows is the service as
deployed. With ``--idle`` the samples include the event loop waiting on its sockets, which tells a process
that waits on a server from one that is busy computing.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

__all__ = ["CpuLedger", "Profilers", "categorise", "summarise_collapsed"]

# Leaf-frame categories, by the file the sampled frame is in (first match wins).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("idle: waiting on sockets", ("selectors.py", "select", "epoll")),
    ("MongoDB driver (pymongo, bson)", ("pymongo/", "bson/")),
    ("Kafka client (aiokafka)", ("aiokafka/", "kafka/")),
    ("pydantic validation and serialisation", ("pydantic/", "pydantic_core/")),
    ("json", ("json/",)),
    ("FastStream", ("faststream/",)),
    ("HTTP (starlette, uvicorn, httpx, h11)", ("starlette/", "uvicorn/", "httpx/", "httpcore/", "h11/")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("logging", ("logging/",)),
    ("Siaga runtime", ("siaga_runtime/",)),
    ("Siaga contracts (siaga_schemas)", ("siaga_schemas/",)),
    ("Siaga service code", ("siaga_logistics/", "siaga_notifications/", "siaga_meetings/")),
    ("asyncio machinery", ("asyncio/",)),
    ("threads idle (executor, waits)", ("threading.py", "concurrent/futures/", "queue.py")),
)


def categorise(frame: str) -> str:
    """The category of one py-spy frame, e.g. ``select (selectors.py:468)``."""
    where = frame.rsplit("(", 1)[-1]
    name = frame.split(" (", 1)[0]
    for category, needles in CATEGORIES:
        if any(n in where or (n in {"select", "epoll"} and n in name) for n in needles):
            return category
    return "other (interpreter, stdlib)"


def summarise_collapsed(path: Path, *, top: int = 12) -> dict[str, Any]:
    """Self time by category and the heaviest Siaga functions (inclusive), from py-spy's collapsed output.

    Only the main thread's stacks count (py-spy ``--threads`` puts the thread first in each stack): the
    executor threads that answer ``asyncio.to_thread`` sit idle most of the time and would drown the rest.
    """
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        frames = stack.split(";")
        if frames and frames[0].startswith("thread ") and "MainThread" not in frames[0]:
            continue
        frames = [f for f in frames if not f.startswith(("thread ", "process "))]
        if not frames:
            continue
        n = int(count_s)
        total += n
        by_category[categorise(frames[-1])] += n
        for frame in dict.fromkeys(f for f in frames if "siaga_" in f and "siaga_" in f.rsplit("(", 1)[-1]):
            inclusive[_short(frame)] += n
    share = {k: round(v / total, 3) for k, v in by_category.most_common()} if total else {}
    heaviest = [(name, round(n / total, 3)) for name, n in inclusive.most_common(top)] if total else []
    return {"samples": total, "self_share": share, "siaga_inclusive_share": heaviest}


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    marker = path.find("siaga_")
    return f"{name} ({path[marker:] if marker >= 0 else path})"


@dataclass
class Profilers:
    """One ``py-spy record`` per service process, stopped (and flushed) before the services stop."""

    out_dir: Path
    prefix: str = ""
    rate: int = 47
    procs: dict[str, tuple[subprocess.Popen[bytes], Path]] = field(default_factory=dict)

    @staticmethod
    def available() -> str | None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        return exe if os.path.exists(exe) else None

    def start(self, name: str, pid: int) -> None:
        exe = self.available()
        if exe is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{self.prefix}_{name}" if self.prefix else name
        out = self.out_dir / f"national_profile_{stem}.txt"
        cmd = [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
        cmd += ["--rate", str(self.rate), "--idle", "--threads", "--nonblocking"]
        logs = Path(".devstack") / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = open(logs / f"bench-py-spy-{name}.log", "wb")  # noqa: SIM115
        self.procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=log), out)

    def stop(self) -> dict[str, dict[str, Any]]:
        """Stop every recorder and summarise what it wrote."""
        for proc, _ in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        summaries: dict[str, dict[str, Any]] = {}
        for name, (proc, out) in self.procs.items():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
            if out.exists():
                summaries[name] = summarise_collapsed(out)
                # the raw stacks are kept for a closer look, compressed (they are megabytes of text)
                with out.open("rb") as src, gzip.open(out.with_name(out.name + ".gz"), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                out.unlink()
        return summaries


@dataclass
class CpuLedger:
    """CPU seconds (user + system) of named processes, read at phase boundaries."""

    pids: dict[str, int] = field(default_factory=dict)
    marks: list[tuple[str, float, dict[str, float]]] = field(default_factory=list)

    def watch(self, name: str, pid: int | None) -> None:
        if pid is not None:
            self.pids[name] = pid

    def mark(self, label: str) -> None:
        now: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                now[name] = t.user + t.system
        self.marks.append((label, time.monotonic(), now))

    def phases(self) -> list[dict[str, Any]]:
        """Per phase (between consecutive marks): wall seconds and each process's share of one core."""
        out = []
        for (_, t0, a), (label, t1, b) in zip(self.marks, self.marks[1:], strict=False):
            wall = max(t1 - t0, 1e-9)
            cpu_s = {name: round(b[name] - a[name], 2) for name in b if name in a}
            cores = {name: round(v / wall, 2) for name, v in cpu_s.items()}
            out.append({"phase": label, "wall_s": round(wall, 1), "cores": cores, "cpu_s": cpu_s})
        return out


async def ferretdb_cpu_profile(
    seconds: float, out_dir: Path, *, top: int = 60, name: str = "ferretdb"
) -> dict[str, Any] | None:
    """A Go CPU profile of the devstack's FerretDB (its profiler socket, deploy/ferretdb/pprof.go) over
    the next ``seconds``; returns pprof's heaviest functions by flat and by cumulative time."""
    import asyncio

    import httpx
    from siaga_devstack.paths import Paths

    sock = Paths.discover().ferretdb_data.parent / "pprof.sock"
    go = shutil.which("go")
    if go is None or not await asyncio.to_thread(sock.exists):
        return None
    transport = httpx.AsyncHTTPTransport(uds=str(sock))
    async with httpx.AsyncClient(transport=transport, timeout=seconds + 30) as c:
        r = await c.get(f"http://ferretdb/debug/pprof/profile?seconds={max(1, round(seconds))}")
        r.raise_for_status()
    return await asyncio.to_thread(_pprof_tables, go, r.content, out_dir, top, name)


def _pprof_tables(go: str, profile: bytes, out_dir: Path, top: int, name: str) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f"national_profile_{name}.pb.gz"
    raw.write_bytes(profile)
    tables: dict[str, Any] = {"file": raw.name}
    for key, flags in (("flat", ["-top"]), ("cum", ["-top", "-cum"])):
        cmd = [go, "tool", "pprof", *flags, f"-nodecount={top}", str(raw)]
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False).stdout
        tables[key] = _pprof_rows(text)
        if key == "flat":
            (out_dir / f"national_profile_{name}.txt").write_text(text)
    return tables


def _pprof_rows(text: str) -> list[dict[str, Any]]:
    """Rows of ``go tool pprof -top``: flat%, cum% and the function."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[1].endswith("%") and parts[4].endswith("%"):
            rows.append({"flat_pct": parts[1], "cum_pct": parts[4], "function": " ".join(parts[5:])})
    return rows
