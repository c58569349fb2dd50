"""Processes the devstack started, tracked by pidfiles, and the ports they use."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "DevstackError",
    "alive",
    "fingerprint",
    "pid_running",
    "port_open",
    "read_pid",
    "require_free_port",
    "spawn",
    "stop_pidfile",
    "wait_for",
]


class DevstackError(RuntimeError):
    """A problem the user can act on; the message says what and where."""


def fingerprint(paths: Iterable[Path]) -> str:
    """Hash of the inputs of a download or build, so it is redone only when they change."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def require_free_port(port: int, what: str, env_var: str) -> None:
    if port_open(port):
        raise DevstackError(
            f"port {port} for {what} is already in use by another program; stop it or choose another port "
            f"with {env_var}=<port>"
        )


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pidfile: Path, marker: str) -> int | None:
    """The pid in ``pidfile`` if that process still runs and its command line contains ``marker``."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return pid if marker in cmdline else None


def pid_running(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def spawn(
    cmd: list[str], *, pidfile: Path, log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start a detached process that outlives this one; its output goes to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    pidfile.write_text(str(proc.pid))
    return proc.pid


def wait_for(
    check: Callable[[], bool], *, timeout: float, what: str, log: Path, pid_check: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not pid_check():
            raise DevstackError(f"{what} exited during start-up; see {log}")
        time.sleep(0.25)
    raise DevstackError(f"{what} was not ready within {timeout:.0f}s; see {log}")


def stop_pidfile(pidfile: Path, marker: str, *, timeout: float = 30.0, kill: bool = False) -> bool:
    """Stop the process named by ``pidfile`` (only if it is ours): SIGTERM, wait, then SIGKILL."""
    pid = alive(pidfile, marker)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pidfile, marker):
        time.sleep(0.2)
    if alive(pidfile, marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while alive(pidfile, marker):
            time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    return True
