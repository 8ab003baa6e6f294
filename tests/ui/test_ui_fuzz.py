"""Schemathesis over the UI's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented.

The UI relays to other services through its ports; here every port is a stand-in that answers the same for any
call — once "not found" (404 with an error body), once an empty success — so what is fuzzed is the UI's own
handling of what reaches it: paths, queries, bodies and headers, and relaying whatever comes back.
"""

from __future__ import annotations

import abc
from typing import Any

import pytest

from tests.fuzz import fuzz_openapi
from ui import ports
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.settings import Settings

NOT_FOUND = Reply(404, {"error": {"code": "not_found", "message": "nothing here"}})
EMPTY = Reply(200, {})
PORTS = {
    "business_logic": ports.BusinessLogic,
    "help_centre": ports.HelpCentre,
    "feature_directory": ports.FeatureDirectory,
    "model_trees": ports.ModelTrees,
    "deployments": ports.Deployments,
    "lake_catalog": ports.LakeCatalog,
    "metrics_history": ports.MetricsHistory,
}


def answering(port: type[abc.ABC], reply: Reply) -> Any:
    """An instance of ``port`` whose every call answers ``reply`` (readiness: no problem)."""

    def answer(self: Any, *args: Any, **kwargs: Any) -> Reply:
        return reply

    def no_problem(self: Any) -> None:
        return None

    methods: dict[str, Any] = {name: answer for name in port.__abstractmethods__}
    if "problem" in methods:
        methods["problem"] = no_problem
    return type(f"Answering{port.__name__}", (port,), methods)()


@pytest.mark.fuzz
@pytest.mark.parametrize("reply", [NOT_FOUND, EMPTY], ids=["upstream-404", "upstream-empty-200"])
def test_the_ui_never_answers_5xx_nor_off_its_schema(tmp_path: Any, reply: Reply) -> None:
    app = create_app(
        Settings(var_dir=tmp_path / "var"), **{name: answering(port, reply) for name, port in PORTS.items()}
    )
    assert fuzz_openapi(app) >= 2 * len(PORTS)
