"""The scenario file format: offsets, validation errors that name the line and the field, region slices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from siaga_simulator import DEFAULT_SCENARIO, ScenarioError, load_scenario, parse_offset
from siaga_simulator.actions import regions_for
from siaga_simulator.scenario import ForEach

GOOD = """\
name: tiny
start: "2024-11-18T07:00:00+07:00"
factor: 600
steps:
  - at: "+0m"
    title: ask for reports
    http:
      service: meetings
      method: GET
      path: /templates
      token: "dev:kpu:35:reader"
  - at: "+1d2h30m"
    title: acknowledge
    acknowledge: {token: "dev:kpu:65:organiser", alertname: shipment-delayed, comment: ok}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_offsets() -> None:
    assert parse_offset("+30m") == timedelta(minutes=30)
    assert parse_offset("+1d6h") == timedelta(days=1, hours=6)
    assert parse_offset("2h15m10s") == timedelta(hours=2, minutes=15, seconds=10)
    for bad in ("", "+", "soon", "+5x", "-1h"):
        with pytest.raises(ValueError, match="offset"):
            parse_offset(bad)


def test_a_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    assert [s.kind for s in scenario.steps] == ["http", "acknowledge"]
    assert scenario.steps[1].at == timedelta(days=1, hours=2, minutes=30)
    assert scenario.duration == timedelta(days=1, hours=2, minutes=30)


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (("method: GET", "method: FETCH"), 9, "steps.0.http.method"),
        (('at: "+1d2h30m"', 'at: "+later"'), 12, "steps.1.at"),
        (("factor: 600", "factor: -1"), 3, "factor"),
        (("alertname: shipment-delayed, ", ""), 14, "steps.1.acknowledge.alertname"),
        (("    http:\n", "    contacts: {token: x, entries: [{}]}\n    http:\n"), 5, "steps.0"),
    ],
)
def test_errors_name_the_line_and_the_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str
) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(_write(tmp_path, GOOD.replace(*change)))
    assert f"line {line}: {field}" in str(err.value)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="line 5: not valid YAML"):
        load_scenario(_write(tmp_path, GOOD.replace("steps:", "steps: [")))


def test_the_default_scenario_is_valid_and_ordered() -> None:
    scenario = load_scenario(DEFAULT_SCENARIO)
    kinds = {s.kind for s in scenario.steps}
    assert kinds == {"contacts", "http", "logistics", "deliver", "acknowledge"}
    wall = scenario.duration.total_seconds() / scenario.factor
    assert wall < 180  # "within a couple of minutes" of wall time


def test_region_slices_split_the_38_kab_kota_of_jawa_timur() -> None:
    on_time = regions_for(ForEach(within="35", level=2, start=0.0, stop=0.7))
    late = regions_for(ForEach(within="35", level=2, start=0.7, stop=0.9))
    never = regions_for(ForEach(within="35", level=2, start=0.9, stop=1.0))
    assert len(on_time) + len(late) + len(never) == 38
    assert not set(on_time) & set(late) and "35.71" in on_time + late + never
    with pytest.raises(ValueError, match="not an official region code"):
        ForEach(within="35.99", level=2)
