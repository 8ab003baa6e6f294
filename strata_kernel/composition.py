"""What every deployable's composition root shares: ``bootstrap(settings, *, <port>=None, ...) -> Dependencies``.

A deployable's ``bootstrap`` names every port it can override as an explicit keyword (a misspelt override is a
``TypeError``, never silently ignored) and returns its ``Dependencies``: the adapters and services of one process.
The app factory, the CLI commands, the workers and the tests all build through it.

Each port is a ``functools.cached_property`` built on first use through :meth:`Dependencies.port`: the override
when the caller passed one, else the adapter the settings pick. A command thus builds only what it uses, and
:meth:`Dependencies.close` releases only what was built, newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar, cast

from strata_kernel.settings import StrataSettings

log = logging.getLogger(__name__)

S = TypeVar("S", bound=StrataSettings)
T = TypeVar("T")


class Dependencies(Generic[S]):
    def __init__(self, settings: S, overrides: Mapping[str, object] | None = None) -> None:
        self.settings = settings
        self._overrides = {name: value for name, value in (overrides or {}).items() if value is not None}
        self._closers: list[Callable[[], None]] = []

    def port(self, name: str, build: Callable[[], T], *, closes: bool = False) -> T:
        """The override passed for ``name``, else ``build()`` — whose ``close()`` :meth:`close` calls if ``closes``
        (an override belongs to the caller, who closes it)."""
        if name in self._overrides:
            return cast(T, self._overrides[name])
        built = build()
        if closes:
            self.on_close(built.close)  # type: ignore[attr-defined]
        return built

    def overridden(self, name: str) -> bool:
        return name in self._overrides

    def build(self, *names: str) -> None:
        """Build these ports now (a service does at start, so a setting that cannot work stops the start)."""
        for name in names:
            getattr(self, name)

    def on_close(self, close: Callable[[], None]) -> None:
        self._closers.append(close)

    def close(self) -> None:
        """Release what was built, newest first; one failure does not keep the others open."""
        while self._closers:
            close = self._closers.pop()
            try:
                close()
            except Exception:
                log.exception("closing %s failed", getattr(close, "__qualname__", close))
