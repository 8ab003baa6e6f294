"""Run every Strata process under supervisord (a well-kept process supervisor).

``strata run`` writes ``var/run/supervisord.conf`` and runs supervisord in the foreground: Ctrl-C stops
everything, while ``strata service stop inference_engine`` stops one process and leaves the rest serving
(the layered design's point: business logic keeps answering, with a clear 503, while the engine is away).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

from strata_cli.topology import Service, Sidecar


def _socket_path(run_dir: Path) -> Path:
    # unix socket paths are limited to ~100 bytes: keep it short and unique per var dir
    digest = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:10]
    return Path("/tmp") / f"strata-{digest}.sock"


def config_path(run_dir: Path) -> Path:
    return run_dir / "supervisord.conf"


def write_config(run_dir: Path, programs: list[Service | Sidecar], workdir: Path) -> Path:
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(run_dir)
    sections = [
        "[supervisord]\nnodaemon=true\nsilent=true\n"
        f"logfile={run_dir / 'supervisord.log'}\npidfile={run_dir / 'supervisord.pid'}\nloglevel=warn\n",
        f"[unix_http_server]\nfile={sock}\n",
        f"[supervisorctl]\nserverurl=unix://{sock}\n",
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
    ]
    for program in programs:
        sections.append(
            f"[program:{program.name}]\n"
            f"command={shlex.join(program.command())}\n"
            f"directory={workdir}\n"
            "autostart=true\nautorestart=true\nstartsecs=1\nstartretries=3\n"
            "stopsignal=TERM\nstopwaitsecs=10\nstopasgroup=true\nkillasgroup=true\n"
            f"redirect_stderr=true\nstdout_logfile={logs / (program.name + '.log')}\n"
            "stdout_logfile_maxbytes=20MB\nstdout_logfile_backups=2\n"
        )
    path = config_path(run_dir)
    path.write_text("\n".join(sections))
    return path


def start(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start supervisord in the foreground as a child, in its own process group."""
    supervisord = Path(sys.executable).with_name("supervisord")
    return subprocess.Popen(
        [str(supervisord), "-n", "-c", str(config)],
        env={**os.environ, **env},
        start_new_session=True,
    )


def ctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    supervisorctl = Path(sys.executable).with_name("supervisorctl")
    return subprocess.run([str(supervisorctl), "-c", str(config), *args], capture_output=True, text=True, check=False)
