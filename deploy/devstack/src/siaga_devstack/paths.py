"""Where the devstack keeps downloads (``.cache/``) and server state (``.devstack/``), both git-ignored."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .process import DevstackError

__all__ = ["Paths", "find_root"]


def find_root(start: Path | None = None) -> Path:
    """The repository root: ``SIAGA_ROOT``, or the nearest parent whose pyproject declares the uv workspace."""
    env = os.environ.get("SIAGA_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.exists() and "[tool.uv.workspace]" in pyproject.read_text():
            return candidate
    raise DevstackError("cannot find the Siaga repository root: run from inside it or set SIAGA_ROOT")


@dataclass(frozen=True)
class Paths:
    root: Path
    # server state (data, logs, pids) elsewhere than ``<root>/.devstack``: a second set of servers with
    # its own state (the chaos test's FerretDB), sharing the root's caches and binaries
    state_dir: Path | None = None

    @classmethod
    def discover(cls) -> Paths:
        return cls(find_root())

    # inputs (committed)
    @property
    def kafka_pom(self) -> Path:
        return self.root / "deploy" / "kafka" / "pom.xml"

    @property
    def kafka_log_config(self) -> Path:
        return self.root / "deploy" / "kafka" / "log4j2.properties"

    @property
    def ferretdb_src(self) -> Path:
        return self.root / "deploy" / "ferretdb"

    # caches (downloads and builds)
    @property
    def cache(self) -> Path:
        return self.root / ".cache"

    @property
    def m2(self) -> Path:
        return self.cache / "m2"

    @property
    def kafka_lib(self) -> Path:
        return self.cache / "kafka" / "lib"

    @property
    def go_mod_cache(self) -> Path:
        return self.cache / "go" / "mod"

    @property
    def go_build_cache(self) -> Path:
        return self.cache / "go" / "build"

    @property
    def ferretdb_bin(self) -> Path:
        return self.cache / "bin" / "siaga-ferretdb"

    # state (data, logs, pids)
    @property
    def state(self) -> Path:
        return self.state_dir if self.state_dir is not None else self.root / ".devstack"

    @property
    def kafka_data(self) -> Path:
        return self.state / "kafka" / "data"

    @property
    def kafka_config(self) -> Path:
        return self.state / "kafka" / "server.properties"

    @property
    def ferretdb_data(self) -> Path:
        return self.state / "ferretdb" / "data"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def lock(self) -> Path:
        return self.state / "devstack.lock"

    def pidfile(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"
