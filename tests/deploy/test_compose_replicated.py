"""The compose deployment's replicated option (``docker-compose.replicated.yml``: three KRaft brokers) and its
Grafana provisioning, resolved by the real ``docker-compose config``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .test_compose import COMPOSE_FILE, ROOT, SERVICES, _clean_env, _env, _volumes

REPLICATED_FILE = ROOT / "docker-compose.replicated.yml"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "siaga-overview.json"
BROKERS = ("kafka", "kafka-2", "kafka-3")


@pytest.fixture(scope="module")
def replicated(docker_compose: str) -> dict[str, Any]:
    files = ["-f", str(COMPOSE_FILE), "-f", str(REPLICATED_FILE)]
    result = subprocess.run(
        [docker_compose, "--project-directory", str(ROOT), *files, "config"],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_three_kraft_voters_with_replication_three_and_min_isr_two(replicated: dict[str, Any]) -> None:
    services = replicated["services"]
    envs = [_env(services[name]) for name in BROKERS]
    voters = "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert [e["KAFKA_NODE_ID"] for e in envs] == ["1", "2", "3"]
    for name, env in zip(BROKERS, envs, strict=True):
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters, name
        assert env["CLUSTER_ID"] == envs[0]["CLUSTER_ID"], f"{name}: one cluster id for all"
        assert set((env["KAFKA_PROCESS_ROLES"] or "").split(",")) == {"broker", "controller"}
        assert f"PLAINTEXT://{name}:9092" in (env["KAFKA_ADVERTISED_LISTENERS"] or ""), name
        for key in (
            "KAFKA_DEFAULT_REPLICATION_FACTOR",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        ):
            assert env[key] == "3", f"{name}: {key}"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", name
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false", name
        assert services[name]["healthcheck"]["test"], name
    data = {m["source"] for name in BROKERS for m in _volumes(services[name]) if m["type"] == "volume"}
    assert data == {"kafka-data", "kafka-2-data", "kafka-3-data"}, "each broker keeps its own log"
    host_ports = {str(p).split(":")[1] for name in BROKERS for p in services[name]["ports"]}
    assert len(host_ports) == 3


def test_services_bootstrap_from_every_broker_with_acks_all(replicated: dict[str, Any]) -> None:
    services = replicated["services"]
    for name in SERVICES:
        env = _env(services[name])
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092,kafka-2:9092,kafka-3:9092", name
        assert env["KAFKA_ACKS"] == "all", name
        assert env["MONGODB_URL"] == "mongodb://mongo:27017", name  # the rest of the base file is kept
        depends = services[name]["depends_on"]
        assert set(depends) == {*BROKERS, "mongo"}, name
        assert all(spec["condition"] == "service_healthy" for spec in depends.values()), name


def test_the_single_node_stays_the_default(compose: dict[str, Any]) -> None:
    assert not {"kafka-2", "kafka-3"} & set(compose["services"])
    assert _env(compose["services"]["kafka"])["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = {m["target"]: Path(m["source"]) for m in _volumes(grafana) if m["type"] == "bind"}
    assert mounts["/etc/grafana/provisioning"] == GRAFANA_DIR / "provisioning"
    datasources = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    prometheus_port = str(compose["services"]["prometheus"]["ports"][0]).split(":")[-1].split("/")[0]
    assert source["url"] == f"http://prometheus:{prometheus_port}"
    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "siaga.yml").read_text())
    (provider,) = providers["providers"]
    assert mounts[provider["options"]["path"]] == DASHBOARD.parent
    env = _env(grafana)
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] is None, "no password in the compose file"
    home = Path(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] or "")
    assert mounts[str(home.parent)] / home.name == DASHBOARD

    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["current"]["value"] == source["uid"]
    assert {"job", "instance"} <= set(variables)
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
        for target in panel["targets"]:
            assert "instance" in target["expr"], f"{panel['title']}: not per instance"
