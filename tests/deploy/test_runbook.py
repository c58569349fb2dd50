"""Every shipped alert rule has a runbook entry in the README (what it means, what to do), and the runbook
describes no alert that is not shipped."""

from __future__ import annotations

import re

import yaml

from .test_compose import PROMETHEUS_DIR, ROOT

README = ROOT / "README.md"


def shipped_alerts() -> set[str]:
    alerts = set()
    for path in sorted((PROMETHEUS_DIR / "rules").glob("*.yml")):
        if path.name.endswith(".test.yml"):
            continue
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts |= {rule["alert"] for rule in group["rules"] if "alert" in rule}
    return alerts


def runbook_entries() -> dict[str, str]:
    text = README.read_text()
    match = re.search(r"^### Runbook\n(.*?)(?=^#{1,3} )", text, flags=re.S | re.M)
    assert match, "README.md has no '### Runbook' section"
    parts = re.split(r"^#### (\S+)\n", match.group(1), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_shipped_alert_has_a_runbook_entry_that_says_what_it_means_and_what_to_do() -> None:
    alerts, entries = shipped_alerts(), runbook_entries()
    assert alerts, "no alert rules found"
    assert alerts - set(entries) == set(), "alerts without a runbook entry"
    assert set(entries) - alerts == set(), "runbook entries for alerts that are not shipped"
    for name, body in entries.items():
        means = re.search(r"\*\*Means:\*\*(.+?)(?=\n- \*\*|\Z)", body, flags=re.S)
        do = re.search(r"\*\*Do:\*\*(.+?)(?=\n- \*\*|\Z)", body, flags=re.S)
        assert means and len(means.group(1).split()) >= 10, f"{name}: say what it means"
        assert do and len(do.group(1).split()) >= 10, f"{name}: say what to do"
