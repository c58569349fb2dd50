"""The Grafana dashboard's queries against the real Prometheus of the monitoring fixture: every PromQL
expression parses and evaluates, and names only metrics that the running services really export."""

from __future__ import annotations

import json

import pytest

from .conftest import Monitoring
from .test_compose_replicated import DASHBOARD
from .test_prometheus_live import metric_names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Grafana's variables, as a query would see them with "All" selected
VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$job": ".*",
    "$instance": ".*",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def dashboard_exprs() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def expand(expr: str) -> str:
    for name, value in sorted(VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr}"
    return expr


def exported_names(monitoring: Monitoring) -> set[str]:
    names = {"up"}  # Prometheus' own, per target
    for family, kind in monitoring.exported.items():
        names.add(family)
        if kind == "histogram":
            names |= {family + suffix for suffix in HISTOGRAM_SUFFIXES}
    return names


def test_every_dashboard_query_parses_and_names_only_exported_metrics(monitoring: Monitoring) -> None:
    exported = exported_names(monitoring)
    assert "siaga_notifications_delivery_attempts_total" in exported  # the services' /metrics were read
    used: set[str] = set()
    for title, expr in dashboard_exprs():
        answer = monitoring.api("query", query=expand(expr))
        assert answer["status"] == "success", f"{title}: {expr}\n{answer.get('error')}"
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        assert names <= exported, f"{title}: {sorted(names - exported)} are not exported by any service"
        used |= names
    for shown in (
        "siaga_events_applied_total",  # throughput
        "siaga_consumer_lag_records",
        "siaga_consumer_rebalances_total",
        "siaga_notifications_delivery_latency_seconds_bucket",  # alert latency
        "siaga_notifications_escalation_steps_total",
        "siaga_notifications_delivery_attempts_total",
        "siaga_outbox_oldest_age_seconds",
        "siaga_lease_owned",
    ):
        assert shown in used, f"the dashboard shows no {shown}"


def test_the_checks_have_teeth(monitoring: Monitoring) -> None:
    broken = monitoring.api(
        "query", query=expand("sum by (job (rate(siaga_events_applied_total[$__rate_interval]))")
    )
    assert broken["status"] == "error" and broken["errorType"] == "bad_data"
    assert not metric_names("rate(siaga_no_such_metric_total[1m])") <= exported_names(monitoring)
