"""Prometheus and Alertmanager for a local `strata run` (Debian packages ``prometheus``, ``prometheus-alertmanager``).

The deployment's own config is the source: ``monitoring/prometheus/prometheus.yml`` names every target by its
docker-compose host (``business-logic:8001``, the sidecar at ``business-logic:9101``) and labels it with
component / layer / part. A local run keeps those jobs, labels and alert rules and only rewrites each target to
where this run serves it (``127.0.0.1:<port>`` from the run's settings), so the rules and dashboards see the same
series here as in the deployment. Alertmanager runs on ``monitoring/alertmanager/alertmanager.yml`` as it is.

Both run as supervisord programs of the run: they start with it, are stopped with it, and a failed start stops
them too (strata_cli.lifecycle).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from strata_cli.settings import Settings
from strata_cli.topology import Service, Sidecar, services, sidecars

MONITORING_DIR = Path(__file__).resolve().parents[1] / "monitoring"
PROMETHEUS_CONFIG = MONITORING_DIR / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = MONITORING_DIR / "alertmanager" / "alertmanager.yml"
#: Debian package of each binary (what `make run` and .ci/run install when it is missing)
PACKAGES = {"prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


@dataclass(frozen=True)
class MonitoringServer:
    """A Prometheus or Alertmanager process of the run: ready when ``/-/ready`` answers 200."""

    name: str
    url: str
    args: tuple[str, ...]
    ready_path: str = "/-/ready"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def command(self) -> list[str]:
        return list(self.args)


def _address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 80}"


def missing_binaries() -> list[str]:
    return [binary for binary in PACKAGES if shutil.which(binary) is None]


def local_targets(settings: Settings) -> dict[tuple[str, str], str]:
    """(job, compose host) -> where this run serves it: every service and sidecar, Prometheus and Alertmanager."""
    targets: dict[tuple[str, str], str] = {}
    for service in services(settings):
        targets[("strata-services", _compose_host(service))] = _address(service.url)
    for sidecar in sidecars(settings):
        targets[("strata-sidecars", _compose_host(sidecar.component))] = _address(sidecar.url)
    targets[("prometheus", "localhost")] = _address(settings.prometheus_url)
    targets[("alertmanager", "alertmanager")] = _address(settings.alertmanager_url)
    return targets


def _compose_host(service: Service | Sidecar) -> str:
    """The docker-compose service name of a deployable: its package name with dashes (data_lake -> data-lake)."""
    name = service.component.name if isinstance(service, Sidecar) else service.name
    return name.replace("_", "-")


def local_prometheus_config(settings: Settings, deployment: dict[str, Any]) -> dict[str, Any]:
    """The deployment's Prometheus config with every target moved to this run (targets it does not run dropped)."""
    targets = local_targets(settings)
    config = dict(deployment)
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / pattern) for pattern in deployment.get("rule_files", [])]
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [_address(settings.alertmanager_url)]}]}]}
    config["scrape_configs"] = [_local_job(job, targets) for job in deployment.get("scrape_configs", [])]
    return config


def _local_job(job: dict[str, Any], targets: dict[tuple[str, str], str]) -> dict[str, Any]:
    moved = []
    for group in job.get("static_configs", []):
        local = [
            targets[(job["job_name"], host)]
            for host in (target.rsplit(":", 1)[0] for target in group.get("targets", []))
            if (job["job_name"], host) in targets
        ]
        if local:
            moved.append({**group, "targets": local})
    return {**job, "static_configs": moved}


def monitoring_servers(settings: Settings, run_dir: Path) -> list[MonitoringServer]:
    """Alertmanager first (Prometheus drops the first alert it cannot deliver), then Prometheus; each writes its
    config under ``run_dir`` and keeps its data under ``var/``."""
    var = settings.var_dir.resolve()
    config = run_dir / "prometheus.yml"
    deployment = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    config.write_text(yaml.safe_dump(local_prometheus_config(settings, deployment), sort_keys=False))
    alertmanager = MonitoringServer("alertmanager", settings.alertmanager_url, (
        "prometheus-alertmanager", f"--config.file={ALERTMANAGER_CONFIG}", f"--storage.path={var / 'alertmanager'}",
        f"--web.listen-address={_address(settings.alertmanager_url)}", "--cluster.listen-address=",
        f"--web.external-url={settings.alertmanager_url}", "--log.level=warn",
    ))  # fmt: skip
    prometheus = MonitoringServer("prometheus", settings.prometheus_url, (
        "prometheus", f"--config.file={config}", f"--storage.tsdb.path={var / 'prometheus'}",
        "--storage.tsdb.retention.time=7d", f"--web.listen-address={_address(settings.prometheus_url)}",
        f"--web.external-url={settings.prometheus_url}", "--rules.alert.resend-delay=5s", "--log.level=warn",
    ))  # fmt: skip
    return [alertmanager, prometheus]
