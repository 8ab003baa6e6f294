"""The deployable monitoring config is valid for the real tools, and the alert rules behave (promtool unit tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
PROMETHEUS = MONITORING / "prometheus"


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which(tool)
    if binary is None:
        pytest.skip(f"{tool} is not installed (apt-get install prometheus prometheus-alertmanager; .ci/run does it)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid() -> None:
    result = _run("promtool", "check", "config", str(PROMETHEUS / "prometheus.yml"))
    _assert_ok(result)
    assert "SUCCESS: 1 rule files found" in result.stdout + result.stderr


def test_alert_rules_are_valid() -> None:
    result = _run("promtool", "check", "rules", *map(str, sorted((PROMETHEUS / "rules").glob("*.yml"))))
    _assert_ok(result)


def test_alert_rules_pass_their_unit_tests() -> None:
    tests = sorted((PROMETHEUS / "tests").glob("*.yml"))
    assert tests, "no promtool rule tests found"
    result = _run("promtool", "test", "rules", *map(str, tests))
    _assert_ok(result)
    assert result.stdout.count("SUCCESS") == len(tests)


def test_alertmanager_config_is_valid() -> None:
    _assert_ok(_run("amtool", "check-config", str(MONITORING / "alertmanager" / "alertmanager.yml")))


def test_every_alert_tells_severity_summary_and_description() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules" / "strata.rules.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    assert {"ServiceDown", "ServiceNotReady", "HighErrorRate", "HighLatencyP99", "HostDown"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description"} <= set(rule["annotations"]), name
        assert "$labels.component" in rule["annotations"]["summary"], name


def test_every_alert_is_covered_by_a_promtool_test() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules" / "strata.rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    tested: set[str] = set()
    for test_file in (PROMETHEUS / "tests").glob("*.yml"):
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            tested |= {check["alertname"] for check in case.get("alert_rule_test", []) if check.get("exp_alerts")}
    assert alerts == tested
