"""A tiny service for tests/kernel/test_kernel_serving.py, served by strata_kernel.serving in a subprocess."""

from __future__ import annotations

import os
import time
from pathlib import Path

from apiflask import APIFlask

from strata_kernel.access import public
from strata_kernel.service import add_shutdown_callback, create_service_app


def factory() -> APIFlask:
    app = create_service_app("demo", title="Demo")
    marker = Path(os.environ["STRATA_TEST_SHUTDOWN_FILE"])

    @app.post("/slow")
    @public
    def slow() -> dict[str, str]:
        time.sleep(0.3)
        return {"status": "done"}

    add_shutdown_callback(app, lambda: marker.write_text(f"flushed by {os.getpid()}\n"))
    return app
