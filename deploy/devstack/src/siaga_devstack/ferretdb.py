"""FerretDB 1.24 on SQLite, built with Go from the module proxy via our main package in deploy/ferretdb."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .paths import Paths
from .process import (
    DevstackError,
    alive,
    fingerprint,
    pid_running,
    port_open,
    require_free_port,
    spawn,
    stop_pidfile,
    wait_for,
)

__all__ = ["FerretDB"]

MARKER = "siaga-ferretdb"


@dataclass(frozen=True)
class FerretDB:
    paths: Paths
    port: int = int(os.environ.get("SIAGA_MONGO_PORT", "27017"))

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile("ferretdb")

    def install(self) -> None:
        """Build our FerretDB main (cached; rebuilt only when go.mod, go.sum or the Go sources change)."""
        if shutil.which("go") is None:
            raise DevstackError("'go' is not installed: FerretDB is built from the Go module proxy")
        src = self.paths.ferretdb_src
        inputs = [src / "go.mod", src / "go.sum", *sorted(src.glob("*.go"))]
        binary = self.paths.ferretdb_bin
        stamp = binary.with_suffix(".stamp")
        wanted = fingerprint(inputs)
        if binary.exists() and stamp.exists() and stamp.read_text() == wanted:
            return
        binary.parent.mkdir(parents=True, exist_ok=True)
        print(f"devstack: building FerretDB into {binary}", flush=True)
        env = {
            **os.environ,
            "GOMODCACHE": str(self.paths.go_mod_cache),
            "GOCACHE": str(self.paths.go_build_cache),
            "GOFLAGS": "-mod=mod",
            "CGO_ENABLED": "0",
            "GOTOOLCHAIN": "local",
        }
        subprocess.run(["go", "build", "-trimpath", "-o", str(binary), "."], cwd=src, env=env, check=True)
        stamp.write_text(wanted)

    def running(self) -> int | None:
        return alive(self.pidfile, MARKER)

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        require_free_port(self.port, "FerretDB (MongoDB wire)", "SIAGA_MONGO_PORT")
        self.install()
        self.paths.ferretdb_data.mkdir(parents=True, exist_ok=True)
        log = self.paths.log("ferretdb")
        cmd = [
            str(self.paths.ferretdb_bin),
            f"--listen-addr=127.0.0.1:{self.port}",
            f"--sqlite-dir={self.paths.ferretdb_data}",
        ]
        pid = spawn(cmd, pidfile=self.pidfile, log=log)
        wait_for(self.ready, timeout=timeout, what="FerretDB", log=log, pid_check=lambda: pid_running(pid))

    def ready(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            return hello_ok("127.0.0.1", self.port)
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> bool:
        return stop_pidfile(self.pidfile, MARKER, timeout=30.0, kill=kill)


def _bson_hello() -> bytes:
    elements = b"\x10hello\x00" + struct.pack("<i", 1)
    elements += b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def hello_ok(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send a MongoDB OP_MSG ``hello`` and check that an OP_MSG reply with ``ok: 1`` comes back."""
    body = struct.pack("<I", 0) + b"\x00" + _bson_hello()
    message = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(message)
        header = _recv(sock, 16)
        length, _, response_to, opcode = struct.unpack("<iiii", header)
        reply = _recv(sock, length - 16)
    return response_to == 1 and opcode == 2013 and b"\x01ok\x00\x00\x00\x00\x00\x00\x00\xf0?" in reply


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data
