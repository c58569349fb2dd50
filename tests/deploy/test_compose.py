"""The container deployment: docker-compose.yml, the service Dockerfiles, the Prometheus configuration and rules.

Checked with real tools, no mocks: ``docker-compose config`` (Debian's docker-compose 1.29, which validates a
compose file against the compose schema without a container engine) resolves the file, and ``promtool`` (Debian's
prometheus package) checks the Prometheus configuration and runs the alerting rules' unit tests. Both are installed
by ``deploy/setup/apt-packages.sh`` (``make test`` runs it); a test fails, never skips, when they are missing.

The environment each service gets in compose is checked against the service's real settings class, so a misspelt
variable name (silently ignored by pydantic-settings at run time) fails here.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices, AliasPath
from siaga_runtime.auth import Authenticator, Role
from siaga_runtime.settings import RuntimeSettings
from siaga_schemas import region_info

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETUP_SCRIPT = ROOT / "deploy" / "setup" / "apt-packages.sh"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES_FILE = PROMETHEUS_DIR / "rules" / "siaga.rules.yml"
RULES_TEST_FILE = PROMETHEUS_DIR / "rules" / "siaga.rules.test.yml"
TOKENS_FILE = ROOT / "deploy" / "auth" / "tokens.example.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"

# compose service -> (settings module, settings class, HTTP port)
SERVICES: dict[str, tuple[str, str, int]] = {
    "meetings": ("siaga_meetings.settings", "MeetingsSettings", 8101),
    "logistics": ("siaga_logistics.settings", "LogisticsSettings", 8102),
    "notifications": ("siaga_notifications.settings", "NotificationsSettings", 8103),
}
# The console: no database, no Kafka; it reaches the services by their compose names.
CONSOLE = ("siaga_console.settings", "ConsoleSettings", 8104)
IMAGES = {**SERVICES, "console": CONSOLE}  # everything built from the one service Dockerfile
INFRASTRUCTURE = {"kafka", "mongo", "prometheus", "grafana"}
REQUIRED_ENV = {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "MONGODB_DATABASE", "HTTP_PORT"}
NAMED_VOLUMES = {"kafka-data", "mongo-data", "prometheus-data", "grafana-data"}
DOCKERFILE = ROOT / "deploy" / "docker" / "service.Dockerfile"
# Where the image puts the repository (WORKDIR of the service Dockerfiles).
IMAGE_APP_DIR = PurePosixPath("/app")


# ---------------------------------------------------------------------------------------------- tools


def _require_tool(command: str) -> str:
    """The tool's path; runs the setup script once if it is missing, and fails (not skips) if still missing."""
    found = shutil.which(command)
    if found is None:
        subprocess.run(["bash", str(SETUP_SCRIPT)], check=False, timeout=900)
        found = shutil.which(command)
    if found is None:
        pytest.fail(f"`{command}` is not installed and {SETUP_SCRIPT.relative_to(ROOT)} did not install it")
    return found


def _clean_env() -> dict[str, str]:
    """A minimal environment, so variables of the caller's shell (LOG_LEVEL, SMTP_PASSWORD...) do not leak in."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


def _compose(docker_compose: str, *args: str, file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose, "--project-directory", str(file.parent), "-f", str(file), *args],
        cwd=file.parent,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def docker_compose() -> str:
    return _require_tool("docker-compose")


@pytest.fixture(scope="session")
def promtool() -> str:
    return _require_tool("promtool")


@pytest.fixture(scope="session")
def compose(docker_compose: str) -> dict[str, Any]:
    """docker-compose.yml as docker-compose resolves it (anchors merged, variables interpolated)."""
    result = _compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


@pytest.fixture(scope="session")
def prometheus_config() -> dict[str, Any]:
    assert PROMETHEUS_CONFIG.is_file(), f"{PROMETHEUS_CONFIG} is missing"
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    return config


def _env(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        return {k: v for k, _, v in (item.partition("=") for item in env)}
    return {k: None if v is None else str(v) for k, v in env.items()}


def _volumes(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's mounts in long form, whichever syntax docker-compose printed them in."""
    mounts = []
    for item in service.get("volumes") or []:
        if isinstance(item, dict):
            mounts.append(item)
            continue
        source, _, rest = str(item).partition(":")
        target = rest.split(":")[0]
        is_path = source.startswith(("/", ".", "~"))
        mounts.append({"type": "bind" if is_path else "volume", "source": source, "target": target})
    return mounts


def _port_of(service: dict[str, Any]) -> int:
    return int(_env(service)["HTTP_PORT"] or 0)


# ---------------------------------------------------------------------------------------------- compose


def test_compose_file_is_valid(docker_compose: str) -> None:
    result = _compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_validation_rejects_a_broken_file(docker_compose: str, tmp_path: Path) -> None:
    """The validator has teeth: a misspelt healthcheck key is refused."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n"
        "  web:\n"
        "    image: python:3.11-slim\n"
        "    healthcheck:\n"
        "      test: [CMD, 'true']\n"
        "      intervall: 5s\n"
    )
    result = _compose(docker_compose, "config", "-q", file=broken)
    assert result.returncode != 0
    assert "intervall" in result.stderr


def test_compose_has_the_expected_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == set(IMAGES) | INFRASTRUCTURE


def test_every_container_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        test = check["test"]
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: bad healthcheck {test}"


def test_service_healthchecks_probe_readiness(compose: dict[str, Any]) -> None:
    for name in IMAGES:
        test = compose["services"][name]["healthcheck"]["test"]
        joined = " ".join(test)
        assert "urllib" in joined, name
        assert "/health/ready" in joined, name
    kafka_check = " ".join(compose["services"]["kafka"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in kafka_check
    mongo_check = " ".join(compose["services"]["mongo"]["healthcheck"]["test"])
    assert "mongosh" in mongo_check
    assert "ping" in mongo_check


def test_dependencies_wait_for_healthy_containers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in SERVICES:
        depends = services[name].get("depends_on") or {}
        assert set(depends) == {"kafka", "mongo"}, f"{name} depends on {depends}"
    assert set(services["prometheus"].get("depends_on") or {}) == set(SERVICES)
    assert set(services["grafana"].get("depends_on") or {}) == {"prometheus"}
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert isinstance(spec, dict), f"{name} -> {dependency}: no condition"
            assert spec.get("condition") == "service_healthy", f"{name} -> {dependency}: {spec}"
            assert services[dependency].get("healthcheck"), f"{dependency} has no healthcheck to wait for"


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    assert declared == NAMED_VOLUMES
    used: dict[str, tuple[str, str]] = {}
    for name, service in compose["services"].items():
        for mount in _volumes(service):
            if mount["type"] == "volume":
                assert mount["source"] in declared, f"{name} uses undeclared volume {mount['source']}"
                used[mount["source"]] = (name, mount["target"])
    assert set(used) == declared, f"declared but unused: {declared - set(used)}"
    services = compose["services"]
    assert used["kafka-data"] == ("kafka", _env(services["kafka"])["KAFKA_LOG_DIRS"])
    assert used["mongo-data"] == ("mongo", "/data/db")
    assert used["prometheus-data"][0] == "prometheus"
    assert used["grafana-data"] == ("grafana", "/var/lib/grafana")
    assert f"--storage.tsdb.path={used['prometheus-data'][1]}" in services["prometheus"]["command"]


def test_bind_mounts_come_from_the_repository_read_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for mount in _volumes(service):
            if mount["type"] != "bind":
                continue
            source = Path(mount["source"])
            assert source.exists(), f"{name}: bind source {source} does not exist"
            assert source.resolve().is_relative_to(ROOT), f"{name}: {source} is outside the repository"
            assert mount.get("read_only") is True, f"{name}: {source} is mounted writable"


def test_images_and_builds(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", services["kafka"]["image"])
    assert re.fullmatch(r"mongo:8(\.\d+)*", services["mongo"]["image"])
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", services["prometheus"]["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", services["grafana"]["image"])
    for name in IMAGES:
        build = services[name]["build"]
        assert Path(build["context"]).resolve() == ROOT, f"{name}: build context must be the repository root"
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
        assert build["args"] == {"SERVICE": name, "PORT": str(IMAGES[name][2])}


def test_kafka_is_a_kraft_combined_node(compose: dict[str, Any]) -> None:
    env = _env(compose["services"]["kafka"])
    assert set((env["KAFKA_PROCESS_ROLES"] or "").split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    listeners = dict(_listener(item) for item in (env["KAFKA_LISTENERS"] or "").split(","))
    advertised = dict(_listener(item) for item in (env["KAFKA_ADVERTISED_LISTENERS"] or "").split(","))
    protocols = dict(
        item.split(":") for item in (env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] or "").split(",")
    )
    assert set(listeners) == set(protocols), "every listener needs a security protocol"
    assert controller in listeners
    assert controller not in advertised, "the controller listener is not advertised to clients"
    assert (
        env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:{listeners[controller].rsplit(':', 1)[1]}"
    )
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"] or ""), "CLUSTER_ID: a base64 UUID"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", f"{key} must be 1 on a single node"
    # The services reach the broker through the listener it advertises on the compose network.
    internal = advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"] or ""]
    for name in SERVICES:
        assert _env(compose["services"][name])["KAFKA_BOOTSTRAP_SERVERS"] == internal, name


def _listener(item: str) -> tuple[str, str]:
    name, _, address = item.partition("://")
    return name, address


def test_services_reach_mongo_inside_the_network(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        url = _env(compose["services"][name])["MONGODB_URL"] or ""
        assert re.fullmatch(r"mongodb://mongo:27017(/.*)?", url), f"{name}: {url}"


# ---------------------------------------------------------------------------------------------- settings


def _settings_class(service: str) -> type[RuntimeSettings]:
    module_name, class_name, _ = SERVICES[service]
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    assert isinstance(cls, type) and issubclass(cls, RuntimeSettings), f"{class_name}: not RuntimeSettings"
    return cls


def _env_names(cls: type[RuntimeSettings]) -> dict[str, str]:
    """Upper-cased environment variable name -> field name, as pydantic-settings reads them."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    assert cls.model_config.get("case_sensitive") is False, "settings are documented as case-insensitive"
    names: dict[str, str] = {}
    for field_name, info in cls.model_fields.items():
        aliases: list[str] = []
        alias = info.validation_alias or info.alias
        if isinstance(alias, str):
            aliases.append(alias)
        elif isinstance(alias, AliasChoices):
            for choice in alias.choices:
                if isinstance(choice, str):
                    aliases.append(choice)
                elif isinstance(choice, AliasPath) and isinstance(choice.path[0], str):
                    aliases.append(choice.path[0])
        elif isinstance(alias, AliasPath) and isinstance(alias.path[0], str):
            aliases.append(alias.path[0])
        for env_name in aliases or [prefix + field_name]:
            names[env_name.upper()] = field_name
    return names


def test_env_names_of_the_runtime_settings() -> None:
    names = _env_names(RuntimeSettings)
    assert set(names) >= REQUIRED_ENV | {"SERVICE_NAME", "HTTP_HOST", "AUTH_TOKENS_FILE", "LOG_LEVEL"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_compose_env_names_are_settings_of_the_service(compose: dict[str, Any], service: str) -> None:
    cls = _settings_class(service)
    accepted = _env_names(cls)
    env = _env(compose["services"][service])
    unknown = sorted(name for name in env if name.upper() not in accepted)
    assert not unknown, f"{service}: compose sets variables that {cls.__name__} does not read: {unknown}"
    missing = sorted(REQUIRED_ENV - {name.upper() for name, value in env.items() if value})
    assert not missing, f"{service}: compose does not set {missing}"
    assert (env["SERVICE_NAME"] or "") == service
    assert env["HTTP_HOST"] == "0.0.0.0"  # noqa: S104 (in its container, reached through compose)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_compose_env_values_are_valid_settings(compose: dict[str, Any], service: str) -> None:
    """The values parse: the settings class accepts them (unset pass-through variables keep their defaults).

    Validated from exactly the compose values (by field name), not from this process's environment."""
    cls = _settings_class(service)
    accepted = _env_names(cls)
    env = _env(compose["services"][service])
    values = {accepted[name.upper()]: value for name, value in env.items() if value is not None}
    settings = cls.model_validate(values, by_name=True)
    _, _, port = SERVICES[service]
    assert settings.http_port == port
    assert settings.service_name == service
    assert settings.mongodb_database == f"siaga_{service}"


def _in_repo(container_path: str, mounts: list[dict[str, Any]]) -> Path:
    """The repository file that a path inside a service container refers to (bind mount, or the image copy)."""
    path = PurePosixPath(container_path)
    for mount in mounts:
        target = PurePosixPath(mount["target"])
        if mount["type"] == "bind" and (path == target or target in path.parents):
            return Path(mount["source"]) / path.relative_to(target)
    assert IMAGE_APP_DIR in path.parents, (
        f"{container_path} is neither mounted nor inside the image's {IMAGE_APP_DIR}"
    )
    return ROOT / path.relative_to(IMAGE_APP_DIR)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_files_named_in_the_environment_exist(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    env = _env(spec)
    mounts = _volumes(spec)
    tokens = _in_repo(env["AUTH_TOKENS_FILE"] or "", mounts)
    assert tokens.resolve() == TOKENS_FILE
    for name in ("ROUTING_FILE",):
        if env.get(name):
            assert _in_repo(env[name] or "", mounts).is_file(), (
                f"{service}: {name}={env[name]} is not in the repo"
            )


def test_notifications_secrets_are_not_committed(compose: dict[str, Any]) -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    env = raw["services"]["notifications"]["environment"]
    assert "ROUTING_FILE" in env
    assert {"SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_USER", "SMTP_PASSWORD"} <= set(env)
    secrets = ["SMTP_USER", "SMTP_PASSWORD", "WEBHOOK_SECRET", "TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET"]
    secrets += ["WHATSAPP_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "ACK_LINK_SECRET"]
    for name in secrets:
        value = env.get(name)
        assert value is None or str(value).startswith("${"), f"{name} must come from the caller's environment"
    # With a clean environment the resolved secrets stay unset (so the settings' None applies).
    resolved = _env(compose["services"]["notifications"])
    assert resolved["SMTP_PASSWORD"] is None
    assert resolved["SMTP_USER"] is None


def test_example_tokens_file_loads_and_matches_its_documented_tokens() -> None:
    authenticator = Authenticator.from_file(str(TOKENS_FILE))
    entries = yaml.safe_load(TOKENS_FILE.read_text())
    assert entries, "the example file declares no principal"
    for entry in entries:
        assert re.fullmatch(r"[0-9a-f]{64}", entry["token_sha256"]), entry
        assert set(entry["roles"]) <= Role.ALL, entry
        assert entry["region"] is None or region_info(entry["region"]) is not None, entry
    assert any(entry["region"] is None for entry in entries), "a national account is part of the example"
    # Each entry is preceded by a comment naming its demo token; the hash must be that token's.
    documented = re.findall(
        r"^# token: (\S+)\n- token_sha256: ([0-9a-f]{64})$", TOKENS_FILE.read_text(), re.M
    )
    assert len(documented) == len(entries)
    for token, digest in documented:
        assert hashlib.sha256(token.encode()).hexdigest() == digest, token
        principal = authenticator.authenticate(token)
        assert principal is not None, token


# ---------------------------------------------------------------------------------------------- Dockerfiles


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, f"{dockerfile}: dangling line continuation"
    return [(item.split(None, 1)[0].upper(), item.split(None, 1)[1]) for item in logical]


def _dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line.strip("/") for line in lines if line and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore excludes ``path`` or a folder above it (patterns without '!' exceptions)."""
    parts = PurePosixPath(path).parts
    for pattern in patterns:
        assert not pattern.startswith("!"), "exceptions are not modelled by this check"
        pat = pattern.split("/")
        for end in range(1, len(parts) + 1):
            if _match(pat, list(parts[:end])):
                return True
    return False


def _match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _match(pattern[1:], parts[1:])


def _workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    expanded: list[str] = []
    for member in members:
        expanded += sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob(f"{member}/pyproject.toml"))
    return expanded


def test_dockerignore_excludes_local_state() -> None:
    patterns = _dockerignore_patterns()
    for path in (
        ".cache",
        ".devstack",
        ".venv",
        "bench/results",
        "tests",
        ".git",
        "runtime/src/x/__pycache__",
    ):
        assert _ignored(path, patterns), f".dockerignore does not exclude {path}"


def _expand(text: str, build_args: dict[str, str]) -> str:
    """Substitute ``${ARG}`` as the Docker builder does for the build arguments compose passes."""
    return re.sub(r"\$\{(\w+)\}", lambda m: build_args.get(m.group(1), m.group(0)), text)


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_service_image_recipe(service: str, compose: dict[str, Any]) -> None:
    """The one Dockerfile, read with the build arguments compose gives this service."""
    assert DOCKERFILE.is_file()
    build_args = {k: str(v) for k, v in compose["services"][service]["build"]["args"].items()}
    steps = [(kind, _expand(arg, build_args)) for kind, arg in _instructions(DOCKERFILE)]
    kinds = [kind for kind, _ in steps]
    args = {kind: arg for kind, arg in steps}  # the last of each kind
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert kinds.count("FROM") == 1
    runs = " && ".join(arg for kind, arg in steps if kind == "RUN")
    assert re.search(r"pip install [^&]*\buv==", runs), "uv is installed with pip, pinned"
    assert f'uv sync --frozen --no-dev --package "siaga-{service}"' in runs
    user = args["USER"].split(":")[0]
    assert user not in ("root", "0"), "the service must not run as root"
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")
    assert "/health/ready" in args["HEALTHCHECK"]
    assert f"SERVICE_NAME={service}" in args["ENV"]
    assert json.loads(args["CMD"]) == ["sh", "-c", 'exec python -m "siaga_${SERVICE_NAME}"']
    port = IMAGES[service][2]
    assert args["EXPOSE"] == str(port)
    assert _port_of(compose["services"][service]) == port

    # Every COPY source exists and is inside the build context that .dockerignore leaves.
    patterns = _dockerignore_patterns()
    copied: list[str] = []
    for kind, arg in steps:
        if kind != "COPY":
            continue
        *sources, _dest = arg.split()
        assert not any(s.startswith("--") for s in sources), f"unexpected COPY flag in {arg}"
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not _ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
            copied.append(source)
    # uv needs every workspace member's pyproject.toml; the service needs its own code and its dependencies'.
    for member in _workspace_members():
        assert f"{member}/pyproject.toml" in copied, f"{member}/pyproject.toml is not copied"
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "schemas",
        "runtime",
        "deploy/devstack",
        f"services/{service}",
    ):
        assert needed in copied, f"{needed} is not copied"


@pytest.mark.parametrize("service", sorted(IMAGES))
def test_the_image_command_runs_a_module_that_exists(service: str) -> None:
    """``CMD ["python", "-m", "siaga_<svc>"]`` needs the package's ``__main__``."""
    assert importlib.util.find_spec(f"siaga_{service}.__main__") is not None, f"siaga_{service}/__main__.py"


def test_the_console_reaches_the_services_by_their_compose_names(compose: dict[str, Any]) -> None:
    """Its variables are ConsoleSettings fields with valid values; it waits for the services, holds no
    secret in the file, and reads the same tokens file."""
    from siaga_console.settings import ConsoleSettings

    spec = compose["services"]["console"]
    env = _env(spec)
    accepted = {name.upper() for name in ConsoleSettings.model_fields}
    assert not sorted(n for n in env if n.upper() not in accepted)
    settings = ConsoleSettings.model_validate({k.lower(): v for k, v in env.items() if v is not None})
    assert settings.http_port == _port_of(spec) == CONSOLE[2] and settings.service_name == "console"
    assert settings.cookie_secure is True
    for name in SERVICES:
        url = getattr(settings, f"{name}_url")
        assert url == f"http://{name}:{SERVICES[name][2]}", url
    assert env["SESSION_SECRET"] is None  # passed through from the shell, never written here
    assert set(spec["depends_on"]) == set(SERVICES)
    assert _in_repo(env["AUTH_TOKENS_FILE"] or "", _volumes(spec)).resolve() == TOKENS_FILE


# ---------------------------------------------------------------------------------------------- Prometheus


def test_prometheus_scrapes_every_service(prometheus_config: dict[str, Any], compose: dict[str, Any]) -> None:
    assert prometheus_config["global"]["scrape_interval"] == "15s"
    scraped: dict[str, str] = {}
    for job in prometheus_config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        assert job.get("scrape_interval", "15s") == "15s", job["job_name"]
        for static in job["static_configs"]:
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                assert host in SERVICES, (
                    f"{job['job_name']}: {target} is not a Siaga service of the compose file"
                )
                assert int(port) == _port_of(compose["services"][host]), f"{target}: wrong port"
                scraped[host] = job["job_name"]
    assert set(scraped) == set(SERVICES)
    assert all(job == host for host, job in scraped.items()), "job names are the compose service names"


def test_prometheus_container_loads_this_configuration(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    flags = dict(item.split("=", 1) for item in prometheus["command"] if "=" in item)
    config_in_container = PurePosixPath(flags["--config.file"])
    mounts = {m["target"]: Path(m["source"]) for m in _volumes(prometheus) if m["type"] == "bind"}
    assert mounts.get(str(config_in_container.parent)) == PROMETHEUS_DIR
    assert (PROMETHEUS_DIR / config_in_container.name) == PROMETHEUS_CONFIG


def test_prometheus_rule_files_are_relative_and_exist(prometheus_config: dict[str, Any]) -> None:
    rule_files = prometheus_config["rule_files"]
    assert rule_files
    for pattern in rule_files:
        assert not pattern.startswith("/"), (
            "relative to the config file, so it works in the repo and the container"
        )
        matches = list(PROMETHEUS_CONFIG.parent.glob(pattern))
        assert matches, pattern
        assert RULES_TEST_FILE not in matches, "the unit-test file must not be loaded as rules"
    assert RULES_FILE in [p for pattern in rule_files for p in PROMETHEUS_CONFIG.parent.glob(pattern)]


def test_alerting_rules_cover_the_runtime_metrics() -> None:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    exprs = {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"] if "alert" in rule}
    for metric in (
        "siaga_dead_letters_total",
        "siaga_outbox_oldest_age_seconds",
        "siaga_consumer_lag_records",
        "siaga_dependency_up",
    ):
        assert any(metric in expr for expr in exprs.values()), f"no alert on {metric}"
    assert any(re.search(r"\bup\b.*== 0", expr) for expr in exprs.values()), "no alert on up == 0"
    for group in groups:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            assert rule["annotations"].get("summary"), rule["alert"]
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TEST_FILE.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert tested == set(exprs), f"alerts without a unit test: {set(exprs) - tested}"


def test_promtool_checks_the_configuration(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_checks_the_rules(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_alerting_rules(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", str(RULES_TEST_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
