"""A tiny service for tests/kernel/test_kernel_serving.py, served by strata_kernel.serving in a subprocess."""

from __future__ import annotations

import os
import time
from pathlib import Path

from apiflask import APIFlask

from strata_kernel import background
from strata_kernel.access import public
from strata_kernel.service import create_service_app
from strata_kernel.serving import add_shutdown_callback


def factory() -> APIFlask:
    app = create_service_app("demo", title="Demo")
    marker = Path(os.environ["STRATA_TEST_SHUTDOWN_FILE"])

    @app.post("/slow")
    @public
    def slow() -> dict[str, str]:
        time.sleep(0.3)
        return {"status": "done"}

    def note(line: str) -> None:
        with marker.open("a") as out:
            out.write(f"{line} {os.getpid()}\n")

    ticks = iter(range(1_000_000))

    def tick() -> None:
        if next(ticks) == 0:
            note("loop running in")

    # started by the server in the worker after the fork, stopped before the shutdown callbacks run
    background.register(app, background.BackgroundLoop("demo", tick, 0.05, on_stop=lambda: note("loop stopped in")))
    add_shutdown_callback(app, lambda: note("flushed by"))
    return app
