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
    assert f"SUCCESS: {len(_rule_files())} rule files found" in result.stdout + result.stderr


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


def _rule_files() -> list[Path]:
    return sorted((PROMETHEUS / "rules").glob("*.yml"))


def _alerts() -> dict[str, dict]:
    groups = [group for path in _rule_files() for group in yaml.safe_load(path.read_text())["groups"]]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def test_every_alert_tells_severity_summary_and_description() -> None:
    alerts = _alerts()
    assert {"ServiceDown", "ServiceNotReady", "HighErrorRate", "HighLatencyP99", "HostDown"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description"} <= set(rule["annotations"]), name
        assert "$labels.component" in rule["annotations"]["summary"], name


def _checks() -> list[dict]:
    cases = [
        case for path in (PROMETHEUS / "tests").glob("*.yml") for case in yaml.safe_load(path.read_text())["tests"]
    ]
    return [check for case in cases for check in case.get("alert_rule_test", [])]


def test_every_alert_is_covered_by_a_promtool_test() -> None:
    tested = {check["alertname"] for check in _checks() if check.get("exp_alerts")}
    assert set(_alerts()) == tested


DATA_ALERTS = {
    # alert -> the label naming what is at fault (besides component, layer, flow)
    "StrataSchemaChanged": "field",
    "StrataMissingValuesHigh": "feature",
    "StrataFeatureDrift": "feature",
    "StrataPredictionDrift": "version",
    "StrataTrainingServingSkew": "feature",
    "StrataLakeCommitAnomalous": "table",
    "StrataIllegalAccessAttempts": "endpoint",
}


def test_every_data_alert_localises_and_has_a_silent_case_and_a_runbook_line() -> None:
    """Issue 12: each data alert fires with component, layer, flow and what is at fault, stays silent on a clean
    stream in some promtool case, and has a runbook line in the README."""
    readme = (MONITORING.parent / "README.md").read_text()
    checks = _checks()
    for alert, at_fault in DATA_ALERTS.items():
        fired = [exp for check in checks if check["alertname"] == alert for exp in check.get("exp_alerts", [])]
        assert fired, alert
        for exp in fired:
            assert {"component", "layer", "flow", "severity", at_fault} <= set(exp["exp_labels"]), alert
        assert any(check["alertname"] == alert and not check.get("exp_alerts") for check in checks), alert
        assert f"| {alert} |" in readme, f"no runbook line for {alert} in README.md"


def test_alertmanager_routes_each_component_to_its_team() -> None:
    config = str(MONITORING / "alertmanager" / "alertmanager.yml")
    expected = {
        ("component=inference_engine", "severity=warning"): "strata-ml-team",
        ("component=data_lake", "severity=critical"): "strata-ml-oncall",
        ("component=business_logic", "severity=warning"): "strata-business-team",
        ("component=ui", "severity=critical"): "strata-oncall",
    }
    for labels, receiver in expected.items():
        result = _run("amtool", "config", "routes", "test", "--config.file", config, *labels)
        _assert_ok(result)
        assert result.stdout.strip() == receiver, (labels, result.stdout)
