"""``python -m monitoring sidecar --component business_logic --target http://127.0.0.1:8001 --port 9101``.

argparse, not typer: the sidecar process is what this command line starts, and typer (with its click) was about
1 MB of the 40 a sidecar may take (issue 16) for five options.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from monitoring.domain.targets import sidecar_port
from monitoring.settings import Settings
from strata_kernel.cli import BAD_INPUT, one_line_errors
from strata_kernel.errors import BadRequest
from strata_kernel.logs import configure_logging
from strata_kernel.settings import load_settings


def parser(prog: str = "python -m monitoring") -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog=prog,
        description="Strata monitoring: per-component sidecar monitors (Prometheus rules and Alertmanager config "
        "live in monitoring/prometheus, alertmanager).",
    )
    sub = commands.add_subparsers(dest="command", metavar="COMMAND")
    sidecar_command = sub.add_parser(
        "sidecar",
        help="Probe COMPONENT's /healthz and /readyz every few seconds and export the outcomes on /metrics.",
        description="Probe COMPONENT's /healthz and /readyz every few seconds and export the outcomes on /metrics.",
    )
    sidecar_command.add_argument("--component", required=True, help="Component to watch: ui, business_logic, ...")
    sidecar_command.add_argument("--target", default="", help="Base URL of the component; default its local port.")
    sidecar_command.add_argument("--host", default="", help="Interface the sidecar listens on.")
    sidecar_command.add_argument(
        "--port", type=int, default=0, help="Port of the sidecar's /metrics; default 9100 + component offset."
    )
    sidecar_command.add_argument("--interval", type=float, default=0.0, help="Seconds between probe rounds.")
    return commands


def app(argv: Sequence[str] | None = None, prog_name: str = "python -m monitoring") -> None:
    commands = parser(prog_name)
    args = commands.parse_args(argv)
    if args.command is None:  # no command: the help, as a usage error
        commands.print_help()
        raise SystemExit(BAD_INPUT)
    sidecar(args.component, args.target, args.host, args.port, args.interval)


def sidecar(component: str, target: str = "", host: str = "", port: int = 0, interval: float = 0.0) -> None:
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
