"""Load shedding: a request that waited too long for a worker thread is answered 503 + ``Retry-After`` at once.

Under gunicorn (strata_kernel.serving) each request's wait between "its bytes arrived" and "a thread picked it
up" is measured by the worker and kept here, per thread, for the app's request hook. A request that queued longer
than ``SHED_AFTER_SECONDS`` has most likely outlived its caller's time-out already; answering it in microseconds
lets the queue drain instead of growing into a tail of ten-second answers. Ops routes (/healthz, /readyz,
/metrics) are never shed. Outside gunicorn (tests, the Flask dev server) nothing is measured and nothing is shed.
"""

from __future__ import annotations

import threading

#: a request that waited longer than this for a thread is shed
SHED_AFTER_SECONDS = 0.5
#: what the shed caller is told to wait before trying again
RETRY_AFTER_SECONDS = 1

_local = threading.local()


def set_queue_wait(seconds: float) -> None:
    """Called by the serving worker in the thread that is about to handle a request."""
    _local.seconds = seconds


def queue_wait() -> float:
    """How long the current request waited for its thread (0 when not measured)."""
    return float(getattr(_local, "seconds", 0.0))
