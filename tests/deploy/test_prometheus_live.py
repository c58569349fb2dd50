"""The shipped Prometheus configuration and alert rules on a real Prometheus server scraping real service
instances: every rule evaluates, against series the services really export, a dead letter fires
``SiagaDeadLetters``, and stopping one instance fires ``SiagaTargetDown`` for that instance only."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from siaga_schemas.topics import MEETINGS_REPORT_SUBMISSIONS

from .conftest import PROMETHEUS_DIR, SHORT_FOR, Monitoring, local_config, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOT_METRICS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "unless",
    "or",
    "and",
}
FUNCTIONS = {"sum", "increase", "rate", "max", "min", "avg", "count", "histogram_quantile", "topk", "irate"}


def shipped_rules() -> list[dict[str, Any]]:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    rules = []
    for name in config["rule_files"]:
        for group in yaml.safe_load((PROMETHEUS_DIR / name).read_text())["groups"]:
            rules += group["rules"]
    return rules


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (identifiers outside label matchers and strings)."""
    bare = re.sub(r"\{[^}]*\}|\"[^\"]*\"|'[^']*'|\[[^\]]*\]", " ", expr)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    bare = re.sub(r"\boffset\s+\w+|\$\w+|\b\d[\w.]*", " ", bare)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare))
    return {
        n for n in names if n not in NOT_METRICS | FUNCTIONS and not n.startswith("__") and not n.isdigit()
    }


def test_the_generated_config_changes_only_targets_and_timings(tmp_path: Any) -> None:
    shipped = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {job["job_name"]: [f"127.0.0.1:{29280 + i}"] for i, job in enumerate(shipped["scrape_configs"])}
    generated = yaml.safe_load(local_config(tmp_path, targets).read_text())
    assert [j["job_name"] for j in generated["scrape_configs"]] == list(targets)
    for before, after in zip(shipped["scrape_configs"], generated["scrape_configs"], strict=True):
        assert after["static_configs"][0]["labels"] == before["static_configs"][0]["labels"]
        assert after["static_configs"][0]["targets"] == targets[before["job_name"]]
    rules = [
        r
        for f in generated["rule_files"]
        for g in yaml.safe_load(Path(f).read_text())["groups"]
        for r in g["rules"]
    ]
    assert [{k: v for k, v in r.items() if k != "for"} for r in rules] == [
        {k: v for k, v in r.items() if k != "for"} for r in shipped_rules()
    ]
    assert all(r["for"] == SHORT_FOR for r in rules if "for" in r)


def _firing(monitoring: Monitoring, alertname: str) -> list[dict[str, Any]]:
    alerts = monitoring.api("alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


async def _send_malformed(monitoring: Monitoring) -> str:
    topic = f"{monitoring.prefix}.{MEETINGS_REPORT_SUBMISSIONS.name}"
    producer = AIOKafkaProducer(bootstrap_servers=monitoring.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{not json", key=b"monitoring-test")
    finally:
        await producer.stop()
    return topic


def test_every_target_is_scraped_and_every_shipped_rule_evaluates_on_real_series(
    monitoring: Monitoring,
) -> None:
    expected = {i.target for i in monitoring.instances}

    def all_up() -> bool:
        active = monitoring.api("targets")["data"]["activeTargets"]
        return {t["scrapeUrl"].split("/")[2] for t in active if t["health"] == "up"} == expected

    wait_until("every service instance scraped as up", all_up, cap_s=60)
    topic = asyncio.run(_send_malformed(monitoring))  # a dead letter, and a consumed batch (lag series)

    rules = shipped_rules()
    needed = set().union(*(metric_names(r["expr"]) for r in rules))
    assert {"up", "siaga_dependency_up", "siaga_outbox_oldest_age_seconds"} <= needed

    def series_of_every_rule() -> set[str] | None:
        missing = {n for n in needed if not monitoring.api("series", **{"match[]": n})["data"]}
        return None if missing else needed

    wait_until("a series for every metric the rules use", series_of_every_rule, cap_s=90)

    def evaluated() -> list[dict[str, Any]] | None:
        groups = monitoring.api("rules")["data"]["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        if len(loaded) != len(rules) or any(r.get("lastEvaluation", "").startswith("0001") for r in loaded):
            return None
        return loaded

    loaded = wait_until("every rule evaluated once", evaluated, cap_s=60)
    assert {r["name"] for r in loaded} == {r["alert"] for r in rules}
    assert all(r["health"] == "ok" for r in loaded), [(r["name"], r.get("lastError")) for r in loaded]

    def shared_partitions() -> dict[str, float] | None:
        query = f'siaga_consumer_assigned_partitions{{job="meetings", topic="{topic}"}}'
        result = monitoring.api("query", query=query)["data"]["result"]
        held = {r["metric"]["instance"]: float(r["value"][1]) for r in result}
        return held if sum(held.values()) == MEETINGS_REPORT_SUBMISSIONS.partitions else None

    held = wait_until("the meetings instances holding every partition between them", shared_partitions)
    assert set(held) == {i.target for i in monitoring.instances if i.job == "meetings"}
    assert all(count > 0 for count in held.values()), held  # two instances, both with a share
    rebalances = monitoring.api("query", query=f'siaga_consumer_rebalances_total{{topic="{topic}"}}')
    assert {r["metric"]["instance"] for r in rebalances["data"]["result"]} == set(held)

    dead = wait_until("SiagaDeadLetters firing", lambda: _firing(monitoring, "SiagaDeadLetters"), cap_s=90)
    assert dead[0]["labels"]["topic"] == topic and dead[0]["labels"]["service"] == "meetings"
    assert not _firing(monitoring, "SiagaTargetDown")


def test_a_stopped_instance_fires_siaga_target_down_for_that_instance_only(monitoring: Monitoring) -> None:
    gone = monitoring.instance("meetings-b")
    gone.stop(signal.SIGKILL)
    firing = wait_until(
        f"SiagaTargetDown firing for {gone.target}",
        lambda: [a for a in _firing(monitoring, "SiagaTargetDown") if a["labels"]["instance"] == gone.target],
        cap_s=90,
    )
    assert firing[0]["labels"]["job"] == "meetings" and firing[0]["labels"]["severity"] == "critical"
    down = {a["labels"]["instance"] for a in _firing(monitoring, "SiagaTargetDown")}
    assert down == {gone.target}  # the other meetings instance is still scraped
    up = monitoring.api("query", query='up{job="meetings"}')["data"]["result"]
    assert {r["metric"]["instance"]: r["value"][1] for r in up} == {
        monitoring.instance("meetings-a").target: "1",
        gone.target: "0",
    }
