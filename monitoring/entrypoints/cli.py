"""``python -m monitoring sidecar --component business_logic --target http://127.0.0.1:8001 --port 9101``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from monitoring.domain.targets import sidecar_port
from monitoring.settings import Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.errors import BadRequest
from strata_kernel.logs import configure_logging
from strata_kernel.settings import load_settings

app = typer.Typer(help="Strata monitoring: per-component sidecar monitors.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Strata monitoring (Prometheus rules and Alertmanager config live in monitoring/prometheus, alertmanager)."""


@app.command()
def sidecar(
    component: Annotated[str, typer.Option(help="Component to watch: ui, business_logic, ...")],
    target: Annotated[str, typer.Option(help="Base URL of the component; default its local port.")] = "",
    host: Annotated[str, typer.Option(help="Interface the sidecar listens on.")] = "",
    port: Annotated[int, typer.Option(help="Port of the sidecar's /metrics; default 9100 + component offset.")] = 0,
    interval: Annotated[float, typer.Option(help="Seconds between probe rounds.")] = 0.0,
) -> None:
    """Probe COMPONENT's /healthz and /readyz every few seconds and export the outcomes on /metrics."""
    overrides: dict[str, Any] = {"sidecar_component": component}
    if target:
        overrides["sidecar_target_url"] = target
    if host:
        overrides["sidecar_host"] = host
    if interval > 0:
        overrides["probe_interval_seconds"] = interval
    with one_line_errors():
        settings = load_settings(Settings, **overrides)
        configure_logging("sidecar", settings.log_level, settings.log_json)
        try:
            listen_port = port or settings.sidecar_port or sidecar_port(component)
            _check_builds(settings)
        except ValueError as exc:  # an unknown component is the caller's input (configuration errors exit 2 anyway)
            raise BadRequest(str(exc)) from exc
        _serve(settings, listen_port)


def _check_builds(settings: Settings) -> None:
    """Fail in the CLI, with one line, before anything listens."""
    from monitoring.bootstrap import bootstrap

    bootstrap(settings)


def _serve(settings: Settings, port: int) -> None:
    from monitoring.entrypoints.app import create_app
    from strata_kernel.serving import serve_in_process

    # One process (no gunicorn master + worker): half the memory, and every scrape reaches the probe gauges'
    # registry; supervisord restarts it if it dies.
    serve_in_process(lambda: create_app(settings), host=settings.sidecar_host, port=port)
