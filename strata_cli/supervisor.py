"""Run every Strata process under supervisord (a well-kept process supervisor).

``strata run`` writes ``var/run/supervisord.conf`` and runs supervisord in the foreground: Ctrl-C stops
everything, while ``strata service stop inference_engine`` stops one process and leaves the rest serving
(the layered design's point: business logic keeps answering, with a clear 503, while the engine is away).
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from strata_cli.topology import Program


def _socket_path(run_dir: Path) -> Path:
    # unix socket paths are limited to ~100 bytes: keep it short and unique per var dir
    digest = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:10]
    return Path("/tmp") / f"strata-{digest}.sock"


def config_path(run_dir: Path) -> Path:
    return run_dir / "supervisord.conf"


def write_config(run_dir: Path, programs: list[Program], workdir: Path) -> Path:
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


@dataclass(frozen=True)
class ProgramState:
    name: str
    state: str  # STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, STOPPED, UNKNOWN
    pid: int
    description: str  # supervisord's words: "pid 123, uptime 0:00:05", "Exited too quickly ..."


def program_states(config: Path) -> dict[str, ProgramState] | None:
    """Every program's state from supervisord's XML-RPC socket; None while supervisord does not answer."""
    proxy = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(serverurl=f"unix://{_socket_from(config)}")
    )
    try:
        infos: list[dict[str, Any]] = proxy.supervisor.getAllProcessInfo()  # type: ignore[assignment]
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        return None
    return {
        str(i["name"]): ProgramState(str(i["name"]), str(i["statename"]), int(i["pid"]), str(i["description"]))
        for i in infos
    }


def _socket_from(config: Path) -> Path:
    return _socket_path(config.parent)


def ctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    supervisorctl = Path(sys.executable).with_name("supervisorctl")
    return subprocess.run([str(supervisorctl), "-c", str(config), *args], capture_output=True, text=True, check=False)
