"""docker-compose.yml describes the real deployment faithfully: every served deployable, its port (from
docs/contracts.md), its sidecar, its Prometheus scrape targets, real adapters and settings that exist."""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from strata_kernel.access import policy_of
from strata_kernel.contracts.auth import OPERATOR

REPO = Path(__file__).resolve().parents[1]
SIDECAR_PORT_OFFSET = 1100  # monitoring.domain.targets: service 800N -> sidecar 910N
STREAM_WORKER = "data-processing-stream"  # data_processing's near-real-time feature worker (no serve command)
STREAM_WORKER_PORT = 8012  # docs/contracts.md: data_processing's port + 10


@cache
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "docker-compose.yml").read_text()))


@cache
def contract_ports() -> dict[str, int]:
    """The "Default ports:" sentence of docs/contracts.md, e.g. {"ui": 8000, "business_logic": 8001, ...}."""
    text = (REPO / "docs" / "contracts.md").read_text()
    sentence = text.split("Default ports:", 1)[1].split("(", 1)[0]
    return {name: int(port) for name, port in re.findall(r"([a-z_]+) (\d{4})", sentence)}


def _has_serve_command(cli: Path) -> bool:
    tree = ast.parse(cli.read_text())
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name == "serve"
        and any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command" for d in node.decorator_list)
        for node in tree.body
    )


@cache
def served_deployables() -> list[str]:
    """Packages at the repository root whose CLI has a `serve` command."""
    return sorted(cli.parts[-3] for cli in REPO.glob("*/entrypoints/cli.py") if _has_serve_command(cli))


def service_name(package: str) -> str:
    return package.replace("_", "-")


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_compose_file_is_valid_for_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run does it)")
    # the operator token is the one secret an operator must supply (the services that accept operator calls share it)
    env = {**os.environ, "STRATA_OPERATOR_TOKEN": "an-operator-token"}
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_operator_token_must_be_supplied() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run does it)")
    env = {key: value for key, value in os.environ.items() if key != "STRATA_OPERATOR_TOKEN"}
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "operator token" in result.stderr


def test_the_served_deployables_are_the_documented_ones() -> None:
    assert served_deployables(), "no deployable with a serve command found"
    assert set(served_deployables()) <= set(contract_ports())


@pytest.mark.parametrize("package", served_deployables())
def test_every_served_deployable_runs_with_its_contract_port(package: str) -> None:
    port = contract_ports()[package]
    service = compose()["services"].get(service_name(package))
    assert service is not None, f"docker-compose.yml has no service {service_name(package)!r} for {package}"
    command = _command(service)
    assert command[:4] == ["python", "-m", package, "serve"]
    assert (_option(command, "--host"), _option(command, "--port")) == ("0.0.0.0", str(port))
    assert port in _container_ports(service)
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("package", served_deployables())
def test_every_served_deployable_has_a_sidecar_on_its_host(package: str) -> None:
    sidecar_port = contract_ports()[package] + SIDECAR_PORT_OFFSET
    sidecars = [
        s for s in compose()["services"].values() if s.get("network_mode") == f"service:{service_name(package)}"
    ]
    assert len(sidecars) == 1, f"{package} needs exactly one sidecar sharing its network namespace"
    command = _command(sidecars[0])
    assert command[:4] == ["python", "-m", "monitoring", "sidecar"]
    assert _option(command, "--component") == package
    assert _option(command, "--port") == str(sidecar_port)
    assert sidecar_port in _container_ports(compose()["services"][service_name(package)])


def _container_ports(service: dict[str, Any]) -> set[int]:
    """Ports the service listens on inside the network: ``expose`` ones and the container side of ``ports``."""
    published = {int(str(mapping).rsplit(":", 1)[-1]) for mapping in service.get("ports", [])}
    return published | {int(port) for port in service.get("expose", [])}


#: what a host outside the deployment reaches: the customers' UI, business logic's public API, Prometheus's UI
#: (comparative-eval and grafana: operators, on the host's loopback only)
PUBLIC = {"ui": ["8000:8000"], "business-logic": ["8001:8001"], "prometheus": ["9090:9090"],
          "comparative-eval": ["127.0.0.1:8006:8006"], "grafana": ["127.0.0.1:3000:3000"],
          "minio": ["127.0.0.1:9000:9000"]}  # fmt: skip


def test_only_public_services_are_published_to_the_host() -> None:
    published = {name: service["ports"] for name, service in compose()["services"].items() if service.get("ports")}
    assert published == PUBLIC  # internal services and MLflow stay on the internal network


def test_each_deployable_gets_its_own_token_and_those_of_the_callers_it_accepts() -> None:
    services = compose()["services"]
    secrets = {name: sorted(s["target"] for s in service.get("secrets", [])) for name, service in services.items()}
    assert secrets["data-lake"] == ["data_collection.token", "data_lake.token", "data_processing.token"]
    assert secrets["inference-engine"] == ["comparative_eval.token", "data_processing.token", "inference_engine.token"]
    assert secrets["data-processing"] == ["business_logic.token", "data_processing.token"]
    assert secrets["business-logic"] == ["business_logic.token"]
    assert not any(secrets[name] for name in services if name.endswith("-sidecar"))
    assert _environment("data-lake")["STRATA_CREDENTIALS_DIR"] == "/run/secrets"


def _accepts_operator_calls(package: str) -> bool:
    """Whether some route of the deployable's app accepts the operator's token (strata_kernel.access)."""
    app = importlib.import_module(f"{package}.entrypoints.app").create_app()
    return any(
        OPERATOR in (policy_of(app.view_functions.get(rule.endpoint), method) or ())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    )


def test_only_containers_that_accept_operator_calls_hold_the_operator_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A compromised public-facing container (UI, business logic) or a sidecar must not be able to deploy, reload a
    model or overwrite a lake table: the token goes only where a route checks it."""
    monkeypatch.setenv("STRATA_VAR_DIR", str(tmp_path))
    holders = {name for name, service in compose()["services"].items()
               if "STRATA_OPERATOR_TOKEN" in service.get("environment", {})}  # fmt: skip
    accepting = {service_name(package) for package in served_deployables() if _accepts_operator_calls(package)}

    assert holders == accepting
    assert {"ui", "business-logic"}.isdisjoint(holders)


def _scrape_targets(job_name: str) -> dict[str, str]:
    config = yaml.safe_load((REPO / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    job = next(job for job in config["scrape_configs"] if job["job_name"] == job_name)
    return {target: static["labels"]["component"] for static in job["static_configs"] for target in static["targets"]}


@pytest.mark.parametrize("package", served_deployables())
def test_prometheus_scrapes_every_service_and_its_sidecar(package: str) -> None:
    port = contract_ports()[package]
    host = service_name(package)
    assert _scrape_targets("strata-services").get(f"{host}:{port}") == package
    assert _scrape_targets("strata-sidecars").get(f"{host}:{port + SIDECAR_PORT_OFFSET}") == package


def test_prometheus_and_alertmanager_mount_the_checked_in_config() -> None:
    services = compose()["services"]
    assert "./monitoring/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "./monitoring/alertmanager:/etc/alertmanager:ro" in services["alertmanager"]["volumes"]


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboards_as_code() -> None:
    grafana = compose()["services"]["grafana"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert "prometheus" in grafana["depends_on"]
    environment = grafana["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"  # not a default
    assert environment["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"  # anonymous visitors read, never edit
    home = environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].removeprefix("/var/lib/grafana/dashboards/")
    assert (REPO / "monitoring" / "grafana" / "dashboards" / home).is_file()
    datasource = yaml.safe_load((REPO / "monitoring" / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
                                .read_text())["datasources"][0]  # fmt: skip
    assert datasource["url"] == "http://prometheus:9090" and "prometheus" in compose()["services"]


def test_the_operations_page_reads_the_deployments_prometheus() -> None:
    assert _environment("ui")["STRATA_PROMETHEUS_URL"] == "http://prometheus:9090"


def test_backends_of_the_real_deployment_are_present() -> None:
    expected = {"kafka", "postgres", "redis", "cassandra", "spark-master", "spark-worker", "mlflow"}
    assert expected <= set(compose()["services"])


def test_the_deployment_sets_every_setting_of_the_cluster_profile() -> None:
    """deploy/cluster.yaml (one machine) and docker-compose.yml (one host per deployable) move the same settings to
    the real engines, and the deployment runs every component `strata cluster up` starts."""
    profile = yaml.safe_load((REPO / "deploy" / "cluster.yaml").read_text())
    services = {"cli", "cluster"}.symmetric_difference(profile)
    sections = {name: profile[name] for name in services if isinstance(profile[name], dict)}
    missing = [f"{section}.{key}" for section, keys in sections.items() for key in keys
               if f"STRATA_{key.upper()}" not in _environment(service_name(section))]  # fmt: skip
    assert missing == []
    started = {"kafka", "spark-master", "spark-worker", "mlflow", "postgres", "redis"}  # strata_cli.cluster
    assert started <= set(compose()["services"])
    assert "STRATA_KAFKA_BOOTSTRAP_SERVERS" in _environment("data-collection") and profile["event_log"] == "kafka"


def test_the_lake_profiles_large_commits_on_the_spark_cluster_with_a_bounded_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lake is on a cluster here, so Spark profiles its large commits, as data_lake reads the container's
    environment: the compose file's master, fewer cores than the worker offers, released when idle."""
    from data_lake.settings import Settings

    monkeypatch.delenv("STRATA_CONFIG_FILE", raising=False)
    for key, value in _environment("data-lake").items():
        if key.startswith("STRATA_") and "${" not in value:
            monkeypatch.setenv(key, value)
    settings = Settings()
    worker = compose()["services"]["spark-worker"]["command"]
    assert settings.profile_engine == "spark" and settings.spark_master == "spark://spark-master:7077"
    assert 0 < settings.profile_spark_cores_max < int(worker[worker.index("--cores") + 1])
    assert settings.profile_spark_idle_seconds <= 300 and settings.profile_spark_min_rows > 0
    lake = compose()["services"]["data-lake"]
    assert "spark-master" in lake["depends_on"] and lake["hostname"] == "data-lake"


def _environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in compose()["services"][service].get("environment", {}).items()}


@pytest.mark.parametrize("package", served_deployables())
def test_environment_switches_to_the_real_adapters(package: str) -> None:
    env = _environment(service_name(package))
    assert env["STRATA_EVENT_LOG"] == "kafka"
    assert env["STRATA_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    for other, port in contract_ports().items():
        if other in served_deployables():
            assert env[f"STRATA_{other.upper()}_URL"] == f"http://{service_name(other)}:{port}"
    for key, value in env.items():
        if "postgres" in value:
            assert value.startswith("postgresql+psycopg://"), key  # psycopg 3 is the installed driver


@pytest.mark.parametrize(
    ("package", "service"), [*((p, service_name(p)) for p in served_deployables()), ("data_processing", STREAM_WORKER)]
)
def test_every_strata_variable_names_a_real_setting(package: str, service: str) -> None:
    settings_class = importlib.import_module(f"{package}.settings").Settings
    shared = set(compose()["x-strata-env"])
    own = {key for key in _environment(service) if key.startswith("STRATA_")} - shared
    unknown = sorted(key for key in own if key.removeprefix("STRATA_").lower() not in settings_class.model_fields)
    assert not unknown, f"{package}.settings.Settings has no field for {unknown}"


def test_every_shared_variable_is_read_by_some_deployable() -> None:
    fields: set[str] = set()
    for package in served_deployables():
        fields |= set(importlib.import_module(f"{package}.settings").Settings.model_fields)
    unread = sorted(key for key in compose()["x-strata-env"] if key.removeprefix("STRATA_").lower() not in fields)
    assert not unread, f"no deployable reads {unread}"


def test_services_using_the_lake_share_one_volume_at_the_lake_root() -> None:
    lake_root = compose()["x-strata-env"]["STRATA_LAKE_ROOT"]
    users = ["data-lake", "data-collection", "data-processing", STREAM_WORKER, "inference-engine", "spark-worker"]
    for name in users:
        assert f"lake:{lake_root}" in compose()["services"][name]["volumes"], name


def test_python_image_installs_the_lock_then_the_project() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "default-jre-headless" in dockerfile
    lines = dockerfile.splitlines()
    lock = next(i for i, line in enumerate(lines) if "uv pip sync" in line and "requirements.lock" in line)
    project = next(i for i, line in enumerate(lines) if "uv pip install" in line and "--no-deps" in line)
    assert lock < project  # the locked libraries first, then the project without re-resolving them
    # byte-compiled in the image: at run time (PYTHONDONTWRITEBYTECODE) every process would compile them again
    assert "--compile-bytecode" in lines[lock] and "--compile-bytecode" in lines[project]
    assert compose()["x-strata-image"]["build"]["dockerfile"] == "deploy/Dockerfile"


def _streaming_groups() -> list[str]:
    groups = (REPO / "data_processing" / "feature_groups").glob("*.yaml")
    return sorted(
        doc["name"] for doc in map(yaml.safe_load, map(Path.read_text, groups)) if doc.get("kind") == "streaming"
    )


def test_the_stream_worker_runs_every_streaming_group_on_the_event_log_with_its_metrics_port() -> None:
    stream = ["python", "-m", "data_processing", "stream"]
    workers = [s for s in compose()["services"].values() if "command" in s and _command(s)[:4] == stream]
    assert sorted(_command(w)[4] for w in workers) == _streaming_groups()
    worker = compose()["services"][STREAM_WORKER]
    assert _option(_command(worker), "--metrics-port") == str(STREAM_WORKER_PORT)
    assert STREAM_WORKER_PORT in _container_ports(worker)
    assert f"http://127.0.0.1:{STREAM_WORKER_PORT}/readyz" in " ".join(worker["healthcheck"]["test"])
    env = _environment(STREAM_WORKER)
    assert (env["STRATA_EVENT_LOG"], env["STRATA_KAFKA_BOOTSTRAP_SERVERS"]) == ("kafka", "kafka:9092")
    assert worker["depends_on"]["kafka"] == {"condition": "service_healthy"}


def test_serving_and_the_stream_worker_share_the_redis_online_store() -> None:
    urls = {_environment(name).get("STRATA_ONLINE_STORE_URL") for name in ("data-processing", STREAM_WORKER)}
    assert urls == {"redis://redis:6379/0"}
    assert "profiles" not in compose()["services"]["redis"]  # started by a plain `docker compose up`
    for name in ("data-processing", STREAM_WORKER):
        assert compose()["services"][name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_the_stream_worker_has_a_sidecar_and_both_are_scraped() -> None:
    sidecar_port = STREAM_WORKER_PORT + SIDECAR_PORT_OFFSET
    sidecars = [s for s in compose()["services"].values() if s.get("network_mode") == f"service:{STREAM_WORKER}"]
    assert len(sidecars) == 1
    assert _option(_command(sidecars[0]), "--component") == "data_processing_stream"
    assert _option(_command(sidecars[0]), "--port") == str(sidecar_port)
    assert sidecar_port in _container_ports(compose()["services"][STREAM_WORKER])
    assert _scrape_targets("strata-services").get(f"{STREAM_WORKER}:{STREAM_WORKER_PORT}") == "data_processing_stream"
    assert _scrape_targets("strata-sidecars").get(f"{STREAM_WORKER}:{sidecar_port}") == "data_processing_stream"


def test_the_dvc_remote_of_the_deployment_is_the_minio_service_with_secret_credentials() -> None:
    import configparser

    minio = compose()["services"]["minio"]
    assert minio["environment"]["MINIO_ROOT_PASSWORD_FILE"] == "/run/secrets/minio_root_password"  # not a default
    assert "dvc-remote:/data" in minio["volumes"]
    config = configparser.ConfigParser()
    config.read(REPO / ".dvc" / "config")
    remote = config["'remote \"minio\"'"]
    assert remote["url"].startswith("s3://") and remote["endpointurl"] == "http://127.0.0.1:9000"
    assert config["core"]["remote"] == "local" and config["core"]["analytics"] == "false"
    assert config["'remote \"local\"'"]["url"] == "../var/dvc-remote"  # relative to .dvc/: <repo>/var/dvc-remote
