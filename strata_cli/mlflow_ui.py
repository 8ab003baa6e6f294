"""``strata mlflow-ui``: MLflow's own web UI on the registry the platform uses, to browse runs and versions.

Not started by ``strata run``: it costs ~300 MB and 20-40 s of start-up for a page most sessions never open. The
model pages of the UI link each version's run to ``mlflow_ui_url`` (http://127.0.0.1:5000 by default).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

from strata_cli.lifecycle import TIED_TO_PARENT
from strata_cli.settings import Settings
from strata_kernel.settings import load_settings


def tracking_uri(settings: Settings) -> str:
    """The registry's URI: the ``mlflow_tracking_uri`` setting, else the embedded SQLite file under var/."""
    if settings.mlflow_tracking_uri:
        return settings.mlflow_tracking_uri
    return f"sqlite:///{(settings.var_dir / 'mlflow' / 'mlflow.db').resolve()}"


def mlflow_ui(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: the port of mlflow_ui_url, 5000).")] = None,
) -> None:
    """Serve MLflow's UI on the platform's registry (runs, metrics, registered versions) until Ctrl-C."""
    console = Console(highlight=False)
    settings = load_settings(Settings)
    port = port or urlsplit(settings.mlflow_ui_url).port or 5000
    uri = tracking_uri(settings)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        console.print(f"[red]error:[/red] no MLflow registry at {uri}: build the demo first (`strata build`)",
                      soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    bin_dir = str(Path(sys.executable).parent)  # mlflow execs uvicorn by name: the venv's bin goes on PATH
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # no server-side job runner (huey consumers): browsing needs none, and they are grandchildren nothing would
        # stop if this CLI were killed
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", host,
               "--port", str(port), "--workers", "1"]  # fmt: skip
    console.print(f"MLflow UI on http://{host}:{port}/ (registry {uri}); Ctrl-C stops it")
    # own session: a terminal's Ctrl-C reaches only us, and we stop the server's whole group; tied to us: a
    # killed CLI (kill -9, a closed terminal) takes the server with it
    process = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=TIED_TO_PARENT)
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
