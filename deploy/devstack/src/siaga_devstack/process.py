"""Processes the devstack started, tracked by pidfiles, and the ports they use."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

__all__ = [
    "DevstackError",
    "alive",
    "env_port",
    "fingerprint",
    "java_major_version",
    "locked",
    "pid_running",
    "port_open",
    "read_pid",
    "require_free_port",
    "require_tool",
    "spawn",
    "stop_pidfile",
    "wait_for",
]


class DevstackError(RuntimeError):
    """A problem the user can act on; the message says what and where."""


_lock_depth = threading.local()
_lock_guard = threading.RLock()


@contextlib.contextmanager
def locked(lockfile: Path) -> Iterator[None]:
    """Serialise devstack operations across processes (pytest sessions, ``make`` targets) on one checkout.

    Re-entrant within a process, so an API function may call another that also locks.
    """
    with _lock_guard:
        depth = getattr(_lock_depth, "n", 0)
        if depth:
            _lock_depth.n = depth + 1
            try:
                yield
            finally:
                _lock_depth.n -= 1
            return
        lockfile.parent.mkdir(parents=True, exist_ok=True)
        with lockfile.open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"devstack: waiting for another devstack command ({lockfile})", flush=True)
                fcntl.flock(fh, fcntl.LOCK_EX)
            _lock_depth.n = 1
            try:
                yield
            finally:
                _lock_depth.n = 0
                fcntl.flock(fh, fcntl.LOCK_UN)


def require_tool(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise DevstackError(f"'{tool}' is not installed or not on PATH: {why}")
    return path


def java_major_version() -> int:
    """The major version of ``java`` on PATH (``java -version`` prints e.g. ``version "17.0.15"``)."""
    require_tool("java", "Kafka needs a Java 17+ runtime (e.g. the openjdk-17-jre-headless package)")
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise DevstackError(f"cannot tell the Java version from: {(out.stderr or out.stdout).strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def fingerprint(paths: Iterable[Path]) -> str:
    """Hash of the inputs of a download or build, so it is redone only when they change."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def env_port(var: str, default: int) -> int:
    """A TCP port from the environment variable ``var``, or ``default``."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevstackError(f"{var}={raw!r} is not a TCP port number")
    return int(raw)


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
    """Poll ``check`` until it holds; fail early if the process died, and point at its log either way."""
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
