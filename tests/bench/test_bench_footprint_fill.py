"""`bench footprint --filled N` feeds the sidecars that read predictions N of them and waits until the 5-minute window
holds them all, reading the count from the sidecar's /metrics (bench/footprint.py ``_fill``, ``_window_samples``).
Here against the engine's sidecar app served in this process (its data monitors running, the bench's stub engine
serving the reference profile), and against a metrics page whose windows hold different counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge, make_wsgi_app

from bench.footprint import _fill, _Healthy, _reference_json, _window_samples
from monitoring.entrypoints.app import create_app, start_probing
from monitoring.settings import Settings
from strata_kernel import background
from strata_kernel.serving import make_threaded_server
from tests.support import free_port


@contextmanager
def _served(app: Any) -> Iterator[str]:
    server = make_threaded_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_engine_sidecar_is_filled_with_every_prediction_fed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Healthy, "reference", _reference_json())  # as sidecars_footprint(filled=N) serves it
    engine = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=engine.serve_forever, daemon=True).start()
    engine_url = f"http://127.0.0.1:{engine.server_port}"
    settings = Settings(var_dir=tmp_path, sidecar_component="inference_engine", sidecar_target_url=engine_url,
                        engine_url=engine_url, probe_interval_seconds=0.2, monitor_poll_seconds=0.1,
                        monitor_evaluate_seconds=6)  # fmt: skip
    app = create_app(settings)
    try:
        with _served(app) as sidecar_url:
            assert _window_samples(sidecar_url) == 0.0  # nothing read yet: no window series
            start_probing(app)
            data, deadline = app.extensions["strata.sidecar"].data, time.monotonic() + 30
            while data.last_evaluated == float("-inf"):  # judged once (nothing yet): the next judgement is 6 s on,
                assert time.monotonic() < deadline, "the data monitors never ran"  # so a fill that did not wait
                time.sleep(0.05)  # for it would read 0 below
            _fill(tmp_path, sidecar_url, 600, timeout_seconds=30)  # two batches published (500 + 100)
            assert _window_samples(sidecar_url) == 600.0
    finally:
        background.stop(app)
        engine.shutdown()
        engine.server_close()


def test_the_window_samples_read_are_the_5_minute_windows_largest() -> None:
    registry = CollectorRegistry()
    samples = Gauge("strata_monitor_window_samples", "Rows in the window.", ["version", "window"], registry=registry)
    judged = Gauge("strata_monitor_window_judged", "1 when judged.", ["version", "window"], registry=registry)
    for window, rows in (("1m", 40), ("5m", 250), ("1h", 900), ("1d", 5000)):
        samples.labels("3", window).set(rows)
    samples.labels("2", "5m").set(120)
    judged.labels("3", "5m").set(1)
    with _served(make_wsgi_app(registry)) as url:
        assert _window_samples(url) == 250.0
    assert _window_samples(f"http://127.0.0.1:{free_port()}") == 0.0  # not answering yet (a sidecar starting)
