"""`strata run`'s Prometheus and Alertmanager: the deployment's scrape config moved to where this run serves."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from strata_cli import monitoring_stack
from strata_cli.settings import Settings
from strata_cli.topology import sidecars


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", ui_url="http://127.0.0.1:18000", data_lake_url="http://127.0.0.1:18004",
                    sidecar_base_port=19100, prometheus_url="http://127.0.0.1:19090",
                    alertmanager_url="http://127.0.0.1:19093")  # fmt: skip


def _targets(config: dict[str, object], job: str) -> dict[str, dict[str, str]]:
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}  # type: ignore[attr-defined]
    return {target: group.get("labels", {}) for group in jobs[job]["static_configs"] for target in group["targets"]}


def test_every_deployment_target_is_moved_to_this_run_with_its_labels(settings: Settings, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    servers = monitoring_stack.monitoring_servers(settings, run_dir)
    config = yaml.safe_load((run_dir / "prometheus.yml").read_text())
    deployment = yaml.safe_load(monitoring_stack.PROMETHEUS_CONFIG.read_text())

    services = _targets(config, "strata-services")
    assert services["127.0.0.1:18000"] == {"component": "ui", "layer": "presentation", "part": "business"}
    assert services["127.0.0.1:18004"]["component"] == "data_lake"
    assert len(services) == len(_targets(deployment, "strata-services"))  # every compose service runs here too
    side = _targets(config, "strata-sidecars")
    assert side["127.0.0.1:19104"]["component"] == "data_lake"
    assert {f"127.0.0.1:{s.port}" for s in sidecars(settings)} >= set(side)
    assert _targets(config, "prometheus") == {"127.0.0.1:19090": {}}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:19093"]
    assert all(Path(pattern).parent.is_dir() for pattern in config["rule_files"])  # the repository's rules
    assert [s.name for s in servers] == ["alertmanager", "prometheus"]  # Alertmanager first
    assert "--web.listen-address=127.0.0.1:19090" in servers[1].command()
    assert "--cluster.listen-address=" in servers[0].command()  # no gossip port to collide on


def test_the_local_config_is_valid_for_prometheus(settings: Settings, tmp_path: Path) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; .ci/run does it)")
    monitoring_stack.monitoring_servers(settings, tmp_path)
    checked = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_target_this_run_does_not_serve_is_dropped(settings: Settings) -> None:
    deployment = {"scrape_configs": [{"job_name": "strata-services", "static_configs": [
        {"targets": ["ui:8000", "elsewhere:8080"], "labels": {"component": "ui"}},
        {"targets": ["nowhere:1"]}]}]}  # fmt: skip
    config = monitoring_stack.local_prometheus_config(settings, deployment)

    assert config["scrape_configs"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:18000"], "labels": {"component": "ui"}}
    ]


@pytest.mark.e2e
def test_under_supervisord_both_become_ready_scrape_this_run_and_stop_with_it(tmp_path: Path) -> None:
    """What `strata run` does with them, without the services: start, wait for /-/ready, stop, no process left."""
    if monitoring_stack.missing_binaries():
        pytest.skip("prometheus / prometheus-alertmanager not installed (apt-get install; .ci/run does it)")
    from strata_cli import lifecycle, supervisor
    from strata_cli.waiting import wait_ready
    from tests.support import free_port

    settings = Settings(var_dir=tmp_path / "var", prometheus_url=f"http://127.0.0.1:{free_port()}",
                        alertmanager_url=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    programs = monitoring_stack.monitoring_servers(settings, run_dir)
    config = supervisor.write_config(run_dir, list(programs), tmp_path)
    process = lifecycle.start_supervisord(config, {}, run_id := lifecycle.new_run_id())
    try:
        wait_ready({p.name: p.url for p in programs}, stall_seconds=60, processes={"supervisord": process},
                   programs=lambda: supervisor.program_states(config),
                   ready_paths={p.name: p.ready_path for p in programs})  # fmt: skip
        ui = _wait_for_target(settings.prometheus_url, "ui")  # discovery syncs a moment after ready
        assert ui["scrapeUrl"] == f"{settings.ui_url}/metrics"
        rules = httpx.get(f"{settings.prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        assert any(rule["name"] == "HostDown" for group in rules for rule in group["rules"])  # the repository's rules
        managers = httpx.get(f"{settings.prometheus_url}/api/v1/alertmanagers", timeout=10).json()["data"]
        assert managers["activeAlertmanagers"][0]["url"].startswith(settings.alertmanager_url)
    finally:
        lifecycle.stop_all(process, run_id)
    assert lifecycle.processes_of(run_id) == []
    assert lifecycle.busy_ports([programs[0].port, programs[1].port]) == []


def _wait_for_target(prometheus_url: str, component: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        targets = httpx.get(f"{prometheus_url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        for target in targets:
            if target["labels"].get("component") == component and target["labels"]["job"] == "strata-services":
                return dict(target)
        time.sleep(0.5)
    raise AssertionError(f"Prometheus has no strata-services target for {component}")
