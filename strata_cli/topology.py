"""Which processes make up a running Strata, where they listen, and the commands that start them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from strata_cli.settings import Settings


class Program(Protocol):
    """A process of the run: supervisord starts ``command()``; the start waits until ``url + ready_path`` is 200."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def ready_path(self) -> str: ...
    def command(self) -> list[str]: ...


@dataclass(frozen=True)
class Service:
    name: str  # the deployable's package, also the supervisor program name
    url: str
    workers: int = 1
    #: the service's number: its default port is 8000 + number and its sidecar's sidecar_base_port + number
    #: (9100 + number), as in docker-compose.yml and monitoring/prometheus/prometheus.yml
    number: int = 0

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def ready_path(self) -> str:
        return "/readyz"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", self.name, "serve",
            "--host", self.host, "--port", str(self.port), "--workers", str(self.workers),
        ]  # fmt: skip


@dataclass(frozen=True)
class StreamWorker(Service):
    """A near-real-time feature worker: no API of its own, but /healthz /readyz /metrics on its port."""

    group: str = ""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "data_processing", "stream", self.group, "--metrics-port", str(self.port)]


def _stream_worker_url(settings: Settings) -> str:
    """data_processing's port + 10 (8012 by default, data_processing's stream_metrics_port): follows
    ``data_processing_url`` so a Strata on other ports (the e2e tests) moves its worker too."""
    parts = urlsplit(settings.data_processing_url)
    return f"http://{parts.hostname or '127.0.0.1'}:{(parts.port or 8002) + 10}"


@dataclass(frozen=True)
class Sidecar:
    component: Service
    port: int

    @property
    def name(self) -> str:
        return f"{self.component.name}_sidecar"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ready_path(self) -> str:
        return "/readyz"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "monitoring", "sidecar",
            "--component", self.component.name, "--target", self.component.url, "--port", str(self.port),
        ]  # fmt: skip


def services(settings: Settings) -> list[Service]:
    """Start order matters little (each waits for nothing), but the lake and the engine come first."""
    hot, other = settings.hot_path_workers, settings.service_workers
    return [
        Service("data_lake", settings.data_lake_url, workers=other, number=4),
        Service("inference_engine", settings.inference_engine_url, workers=hot, number=3),
        Service("data_processing", settings.data_processing_url, workers=hot, number=2),
        Service("business_logic", settings.business_logic_url, workers=hot, number=1),
        # one worker only: each would run its own collector loop (its serve command refuses more)
        Service("data_collection", settings.data_collection_url, number=5),
        Service("ui", settings.ui_url, workers=other, number=0),
        StreamWorker("data_processing_stream", _stream_worker_url(settings), number=12, group="restaurant_realtime"),
        Service("comparative_eval", settings.comparative_eval_url, workers=other, number=6),
        help_centre(settings),
    ]


@dataclass(frozen=True)
class HelpCentreSite(Service):
    """The demo's static help centre: what the crawler reads and where the chatbot's links point."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "data_collection", "serve-helpcentre", "--host", self.host, "--port",
                str(self.port)]  # fmt: skip


def help_centre(settings: Settings) -> HelpCentreSite:
    return HelpCentreSite("help_centre", settings.help_centre_url, number=7)


def sidecars(settings: Settings) -> list[Sidecar]:
    """One sidecar monitor per process, the stream worker included (it answers /healthz and /readyz too), on
    ``sidecar_base_port + number``: ui 9100, business_logic 9101, ..., the stream worker's 9112."""
    return [Sidecar(service, settings.sidecar_base_port + service.number) for service in services(settings)]
