"""The devstack's replicated Kafka (``SIAGA_KAFKA_BROKERS=3``): its configuration, and on the real cluster
that a broker can die and come back while producers with ``acks=all`` lose nothing.

The cluster runs on its own ports (``SIAGA_KAFKA_CLUSTER_PORT``/``SIAGA_KAFKA_CLUSTER_CONTROLLER_PORT``,
default 19092/19192), beside the shared single node; the integration test starts it and stops it again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from siaga_devstack import DevstackError, KafkaCluster, Stack
from siaga_devstack.cluster import configured_brokers
from siaga_devstack.paths import Paths

CLUSTER_VARS = ("SIAGA_KAFKA_CLUSTER_PORT", "SIAGA_KAFKA_CLUSTER_CONTROLLER_PORT", "SIAGA_KAFKA_BROKERS")


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_the_switch_takes_one_node_or_a_cluster_of_three_or_more() -> None:
    assert configured_brokers({}) == 1
    assert configured_brokers({"SIAGA_KAFKA_BROKERS": "3"}) == 3
    for bad in ("2", "0", "many", "10"):
        with pytest.raises(DevstackError, match="SIAGA_KAFKA_BROKERS"):
            configured_brokers({"SIAGA_KAFKA_BROKERS": bad})


def test_every_node_is_a_voter_with_its_own_ports_and_state(tmp_path: Path) -> None:
    cluster = KafkaCluster(Paths(tmp_path), 3, port=29500, controller_port=29600)
    assert cluster.bootstrap == "127.0.0.1:29500,127.0.0.1:29501,127.0.0.1:29502"
    configs = [_props(node.config_text()) for node in cluster.nodes]
    assert [c["node.id"] for c in configs] == ["1", "2", "3"]
    voters = "1@127.0.0.1:29600,2@127.0.0.1:29601,3@127.0.0.1:29602"
    for i, config in enumerate(configs):
        assert config["controller.quorum.voters"] == voters
        assert "controller.quorum.bootstrap.servers" not in config
        assert config["listeners"] == f"PLAINTEXT://127.0.0.1:{29500 + i},CONTROLLER://127.0.0.1:{29600 + i}"
        assert config["default.replication.factor"] == "3"
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["min.insync.replicas"] == "2"
        assert config["transaction.state.log.min.isr"] == "2"
        assert config["unclean.leader.election.enable"] == "false"
    dirs = {node.data_dir for node in cluster.nodes} | {node.pidfile for node in cluster.nodes}
    assert len(dirs) == 6
    assert all(tmp_path / ".devstack" in d.parents for d in dirs)
    with pytest.raises(DevstackError, match="no broker 3"):
        cluster.node(3)


def test_the_switch_makes_the_stack_and_its_env_command_use_the_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    env = {k: v for k, v in os.environ.items() if k not in (*CLUSTER_VARS, "KAFKA_BOOTSTRAP_SERVERS")}
    env |= {"SIAGA_ROOT": str(tmp_path), "SIAGA_KAFKA_BROKERS": "3", "SIAGA_KAFKA_CLUSTER_PORT": "29510"}
    cli = subprocess.run(
        [sys.executable, "-m", "siaga_devstack", "env"], capture_output=True, text=True, env=env, check=True
    )
    assert (
        "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29510,127.0.0.1:29511,127.0.0.1:29512" in cli.stdout.splitlines()
    )
    monkeypatch.delenv("SIAGA_KAFKA_BROKERS", raising=False)
    assert not isinstance(Stack(Paths(tmp_path)).kafka, KafkaCluster)  # the single node stays the default
    with pytest.raises(DevstackError, match="SIAGA_KAFKA_BROKERS=3"):
        _ = Stack(Paths(tmp_path)).cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    """The real 3-broker cluster of this checkout, started for this module and stopped after it."""
    stack = Stack(brokers=3)
    kafka = stack.cluster
    was_running = kafka.running() is not None
    kafka.start()
    yield kafka
    if not was_running:
        kafka.stop()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=value)
    finally:
        await producer.stop()


async def _consume_all(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"{topic}.reader", auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        async with asyncio.timeout(120):  # a cap on a hang, not a timed assertion
            while len(seen) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                seen += [r.value for records in batches.values() for r in records if r.value is not None]
    finally:
        await consumer.stop()
    return seen


@pytest.mark.integration
@pytest.mark.slow
async def test_a_broker_dies_and_returns_and_acks_all_writes_survive(cluster: KafkaCluster) -> None:
    topic = f"cluster-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 3)])
    finally:
        await admin.close()
    before = [f"before-{i}".encode() for i in range(30)]
    await _produce(cluster.bootstrap, topic, before)

    down = cluster.stop_broker(1, kill=True)  # a crash: SIGKILL, fenced after its session times out
    assert down.live == {1, 3}
    assert {f"{topic}/{p}" for p in range(3)} <= set(down.under_replicated)
    during = [f"during-{i}".encode() for i in range(30)]  # 2 in-sync replicas left: min.insync.replicas
    await _produce(cluster.bootstrap, topic, during)

    back = cluster.start_broker(1)
    assert back.live == {1, 2, 3} and back.under_replicated == ()

    cluster.stop_broker(0)  # a controlled shutdown of another broker (and controller voter)
    seen = await _consume_all(cluster.bootstrap, topic, len(before) + len(during))
    assert sorted(seen) == sorted(before + during)
    assert cluster.start_broker(0).settled(cluster.node_ids)


@pytest.mark.integration
@pytest.mark.slow
def test_losing_the_quorum_is_refused(cluster: KafkaCluster) -> None:
    cluster.stop_broker(2)
    try:
        with pytest.raises(DevstackError, match="quorum would be lost"):
            cluster.stop_broker(1)
        assert cluster.nodes[1].running() is not None
    finally:
        cluster.start_broker(2)
