"""FerretDB 1.24 on SQLite, built with Go from the module proxy via our main package in deploy/ferretdb."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .paths import Paths
from .probes import hello_ok
from .process import (
    DevstackError,
    alive,
    env_port,
    fingerprint,
    pid_running,
    require_free_port,
    require_tool,
    spawn,
    stop_pidfile,
    wait_for,
)

__all__ = ["FerretDB", "hello_ok"]


@dataclass(frozen=True)
class FerretDB:
    paths: Paths
    port: int = field(default_factory=lambda: env_port("SIAGA_MONGO_PORT", 27017))

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile("ferretdb")

    @property
    def log(self) -> Path:
        return self.paths.log("ferretdb")

    @property
    def marker(self) -> str:
        """Part of our server's command line: the binary's path, unique to this checkout."""
        return str(self.paths.ferretdb_bin)

    def _inputs(self) -> list[Path]:
        src = self.paths.ferretdb_src
        return [src / "go.mod", src / "go.sum", *sorted(src.glob("*.go"))]

    def installed(self) -> bool:
        stamp = self.paths.ferretdb_bin.with_suffix(".stamp")
        return (
            self.paths.ferretdb_bin.exists()
            and stamp.exists()
            and stamp.read_text() == fingerprint(self._inputs())
        )

    def install(self) -> None:
        """Build our FerretDB main (cached; rebuilt only when go.mod, go.sum or the Go sources change)."""
        if self.installed():
            return
        require_tool("go", "FerretDB is built from source with Go 1.24+ (e.g. the golang package)")
        binary = self.paths.ferretdb_bin
        binary.parent.mkdir(parents=True, exist_ok=True)
        print(f"devstack: building FerretDB into {binary}", flush=True)
        env = {
            **os.environ,
            "GOMODCACHE": str(self.paths.go_mod_cache),
            "GOCACHE": str(self.paths.go_build_cache),
            "GOFLAGS": "-mod=readonly",  # go.sum is committed: the build must not change it
            "CGO_ENABLED": "0",  # modernc.org/sqlite is pure Go
        }
        cmd = ["go", "build", "-trimpath", "-o", str(binary), "."]
        if subprocess.run(cmd, cwd=self.paths.ferretdb_src, env=env, check=False).returncode != 0:
            raise DevstackError(f"building FerretDB failed (sources: {self.paths.ferretdb_src})")
        binary.with_suffix(".stamp").write_text(fingerprint(self._inputs()))

    def running(self) -> int | None:
        """Our server's pid, when the pidfile names a live process whose command line is our server's."""
        return alive(self.pidfile, self.marker)

    def ready(self) -> bool:
        """It answers a MongoDB ``hello`` over the wire."""
        return hello_ok("127.0.0.1", self.port)

    def start(self, timeout: float = 60.0) -> int:
        """Start the server unless ours already runs; return when it answers ``hello``. Returns the pid."""
        pid = self.running()
        if pid is None:
            require_free_port(self.port, "FerretDB (MongoDB wire)", "SIAGA_MONGO_PORT")
            self.install()
            self.paths.ferretdb_data.mkdir(parents=True, exist_ok=True)
            cmd = [
                str(self.paths.ferretdb_bin),
                f"--listen-addr=127.0.0.1:{self.port}",
                f"--sqlite-dir={self.paths.ferretdb_data}",
            ]
            pid = spawn(cmd, pidfile=self.pidfile, log=self.log)
        elif f"--listen-addr=127.0.0.1:{self.port}" not in _cmdline(pid):
            raise DevstackError(
                f"our FerretDB (pid {pid}) listens on another port than {self.port}; "
                "stop it first: python -m siaga_devstack down ferretdb"
            )
        started = pid
        wait_for(
            self.ready,
            timeout=timeout,
            what=f"FerretDB on {self.url}",
            log=self.log,
            pid_check=lambda: pid_running(started),
        )
        return pid

    def stop(self, *, kill: bool = False, timeout: float = 30.0) -> bool:
        """SIGTERM (FerretDB closes its listener and SQLite), SIGKILL after ``timeout`` or at once with ``kill``."""
        return stop_pidfile(self.pidfile, self.marker, timeout=timeout, kill=kill)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
