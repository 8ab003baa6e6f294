"""The published language is a package any deployable, tool or sidecar can import: stdlib and the kernel's errors
only, every wire type a frozen dataclass with to_wire/from_wire, every refusal a 400-class error naming a field."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import strata_kernel.contracts as contracts
from strata_kernel.contracts import topics
from strata_kernel.contracts.events import EVENTS
from strata_kernel.errors import StrataError

MODULES = [info.name for info in pkgutil.iter_modules(contracts.__path__, "strata_kernel.contracts.")]
ALLOWED_OWN = ("strata_kernel.contracts", "strata_kernel.errors")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", MODULES)
def test_a_contract_module_imports_the_standard_library_and_the_kernel_errors_only(module: str) -> None:
    path = Path(importlib.import_module(module).__file__ or "")
    foreign = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith(ALLOWED_OWN)
    }
    assert foreign == set(), f"{module} imports {sorted(foreign)}"


def _wire_types() -> list[type]:
    found = []
    for module in MODULES:
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and hasattr(value, "to_wire"):
                found.append(value)
    return sorted(set(found), key=lambda cls: cls.__qualname__)


def test_every_wire_type_is_frozen_and_speaks_both_directions() -> None:
    types = _wire_types()
    assert len(types) >= 14
    for cls in types:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        if cls.__name__ != "Credential":
            assert callable(getattr(cls, "from_wire", None)), cls


@pytest.mark.parametrize("cls", [cls for cls in _wire_types() if hasattr(cls, "from_wire")], ids=lambda c: c.__name__)
def test_from_wire_refuses_a_non_object_with_a_400_class_error(cls: type) -> None:
    with pytest.raises(StrataError) as refused:
        cls.from_wire(["not", "an", "object"])  # type: ignore[attr-defined]
    assert 400 <= refused.value.status < 500


def test_every_topic_has_its_event_type() -> None:
    assert set(EVENTS) == {topic.name for topic in topics.TOPICS}
    for topic in topics.TOPICS:
        shape = getattr(EVENTS[topic.name], "SHAPE", None)
        assert shape is None or shape.topic == topic
