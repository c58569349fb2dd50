"""The routing file: the shipped default loads; a bad file names the line."""

from __future__ import annotations

import pytest
from siaga_notifications.config import RoutingConfigError, load_routing, parse_routing
from siaga_notifications.settings import DEFAULT_ROUTING_FILE

from .support import ROUTING


def test_default_routing_file_loads_and_routes() -> None:
    config = load_routing(DEFAULT_ROUTING_FILE)
    labels = {
        "event_type": "siaga.logistics.shipment-delayed",
        "alertname": "shipment-delayed",
        "region": "65.01.01",
        "kab_kota": "65.01",
        "severity": "critical",
    }
    [route] = config.routes_for(labels)
    assert (route.route_id, route.receiver, route.escalation) == (
        "logistics-delays",
        "kpu-kabkota-logistics",
        "logistics",
    )
    assert (route.group_wait, route.group_interval, route.repeat_interval) == (30, 300, 4 * 3600)
    assert config.routes_for({"event_type": "something-else"})[0].receiver == "national-desk"


def _error(text: str) -> RoutingConfigError:
    with pytest.raises(RoutingConfigError) as info:
        parse_routing(text, "routing.yaml")
    return info.value


def test_invalid_duration_names_its_line() -> None:
    bad = ROUTING.replace("group_interval: 5m", "group_interval: five minutes")
    err = _error(bad)
    line = bad.splitlines().index("  group_interval: five minutes") + 1
    assert err.line == line
    assert f"routing.yaml, line {line}" in str(err)
    assert "route.group_interval" in str(err)


def test_unknown_receiver_names_the_referencing_line() -> None:
    bad = ROUTING.replace("      receiver: kabkota", "      receiver: kab-kota-typo")
    err = _error(bad)
    assert err.line == bad.splitlines().index("      receiver: kab-kota-typo") + 1
    assert "unknown receiver 'kab-kota-typo'" in str(err)


def test_unknown_field_and_yaml_syntax_errors_name_lines() -> None:
    bad = ROUTING.replace("      escalation: chain", "      escalation: chain\n      esclation: chain")
    err = _error(bad)
    assert err.line == bad.splitlines().index("      esclation: chain") + 1
    assert "Extra inputs" in str(err)
    err = _error("route:\n  receiver: [unclosed\nreceivers: []\n")
    assert err.line is not None and err.line >= 2
    err = _error("route:\n  receiver: a\n  receiver: b\nreceivers: []\n")
    assert err.line == 3 and "duplicate key" in str(err)


def test_bad_escalation_step_is_located() -> None:
    bad = ROUTING.replace("      - {notify: [province], wait: 10m}", "      - {notify: [], wait: 10m}")
    err = _error(bad)
    assert err.line == bad.splitlines().index("      - {notify: [], wait: 10m}") + 1
