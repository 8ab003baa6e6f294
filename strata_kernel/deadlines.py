"""The deadline of the request being handled (a contextvar, like the request id): set from the ``X-Deadline-Ms``
header by the service scaffolding, read by :class:`strata_kernel.http.ServiceClient` for every call it makes."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from strata_kernel.contracts.deadline import Deadline

deadline_var: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("strata_deadline", default=None)


def current() -> Deadline | None:
    return deadline_var.get()


@contextmanager
def within(deadline: Deadline | None) -> Iterator[None]:
    """Run a block under ``deadline`` (the calls it makes share it)."""
    token = deadline_var.set(deadline)
    try:
        yield
    finally:
        deadline_var.reset(token)
