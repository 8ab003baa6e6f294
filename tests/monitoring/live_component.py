"""A real component to probe: a Strata service app (kernel scaffolding) served by werkzeug in a thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, make_server

from strata_kernel.service import create_service_app


@dataclass
class LiveComponent:
    """A component whose readiness the test controls, and which can be stopped and started on the same port."""

    port: int = 0
    ready: bool = True
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        def database() -> str | None:
            return None if self.ready else "database: connection refused"

        app = create_service_app("fake_component", title="fake", readiness_checks=[database])
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
