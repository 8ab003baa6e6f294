"""YAML from outside the process (a request body, an uploaded file) parsed with hard limits.

PyYAML's ``safe_load`` builds no objects but still expands aliases: 600 bytes of nested aliases become hundreds of
millions of strings once something walks or prints the document (the "billion laughs"). A document that comes
over the network has no use for aliases, so they are refused outright, and its size and nesting are bounded.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

from strata_kernel.errors import BadRequest

MAX_YAML_BYTES = 64 * 1024
MAX_YAML_DEPTH = 20


class UnsafeYaml(BadRequest):
    code = "unsafe_yaml"


class _NoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that refuses aliases and documents nested deeper than ``max_depth``."""

    max_depth = MAX_YAML_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise UnsafeYaml(f"YAML aliases are not accepted (line {event.start_mark.line + 1})")
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise UnsafeYaml(f"YAML nested deeper than {self.max_depth} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_untrusted(text: str, *, field: str, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse one YAML document from outside; 400 (naming ``field``) for a bad, oversized or aliased document."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise UnsafeYaml(f"{field}: YAML larger than {max_bytes} bytes", field=field)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass: builds no objects
    except UnsafeYaml as exc:
        raise UnsafeYaml(f"{field}: {exc.message}", field=field) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise BadRequest(f"{field}: not valid YAML ({type(exc).__name__})", code="invalid_yaml", field=field) from None
