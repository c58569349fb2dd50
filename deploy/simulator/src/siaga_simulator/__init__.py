"""Siaga scenario simulator: scripted exercises against the real services, with a live terminal view.

``python -m siaga_simulator run SCENARIO.yaml`` drives running services; ``validate`` checks a file.
The services must run on the same accelerated clock (``scenario_clock_env``); ``make run`` does that.
"""

from .actions import DEFAULT_URLS, Driver, StepFailed
from .runner import Progress, play
from .scenario import Scenario, ScenarioError, Step, load_scenario, parse_offset
from .session import DEFAULT_SCENARIO, run_scenario, scenario_clock_env

__all__ = [
    "DEFAULT_SCENARIO",
    "DEFAULT_URLS",
    "Driver",
    "Progress",
    "Scenario",
    "ScenarioError",
    "Step",
    "StepFailed",
    "load_scenario",
    "parse_offset",
    "play",
    "run_scenario",
    "scenario_clock_env",
]
