"""`strata tree <model>`: the node tree of a partitioned model, read from the inference engine's tree API.

The operator sees each node (global -> country -> city) with its status and why, rows, metric against its
parent, and which node serves it. Exit 1 when the engine cannot be reached, 2 for an unknown model or version.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from strata_kernel.cli import BAD_INPUT, FAILURE, fail, one_line_errors
from strata_kernel.errors import StrataError
from strata_kernel.http import ServiceClient

if TYPE_CHECKING:
    import httpx  # only the type of an injected transport (tests)

#: metrics where a smaller value is the better model
LOWER_IS_BETTER = frozenset({"mae", "rmse", "mse", "logloss"})
COLUMNS = ("node", "status", "rows", "metric", "vs parent", "served by")


def fetch_tree(
    base_url: str, model: str, version: int | None, *, transport: httpx.BaseTransport | None = None
) -> dict[str, Any]:
    """The tree as the engine returns it; a failure ends the command with one line of why."""
    client = ServiceClient("inference_engine", base_url, timeout_seconds=30.0, retries=1, transport=transport)
    params = {"version": version} if version is not None else None
    try:
        status, body = client.relay("GET", f"/v1/models/{quote(model, safe='')}/tree", params=params)
    except StrataError as exc:
        fail(f"{exc.message} ({base_url})", FAILURE)
    finally:
        client.close()
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") or f"inference_engine answered HTTP {status}"
        fail(message, BAD_INPUT if status in (400, 404) else FAILURE)
    if not isinstance(body, dict) or not isinstance(body.get("nodes"), list):
        fail("inference_engine returned a tree without nodes", FAILURE)
    return body


def tree_table(tree: dict[str, Any]) -> Table:
    """One row per node, indented by level; fallback nodes show the ancestor that serves them."""
    counts = ", ".join(f"{status} {n}" for status, n in sorted((tree.get("counts") or {}).items()))
    title = (
        f"{tree.get('model')} v{tree.get('version')}: partitioned by {' -> '.join(tree.get('partition_by', []))}, "
        f"metric {tree.get('metric')}, min_rows {tree.get('min_rows')}"
    )
    table = Table(title=title, caption=counts or None)
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in {"rows", "metric"} else "left")
    for node in tree["nodes"]:
        table.add_row(*node_row(node, str(tree.get("metric", ""))))
    return table


def node_row(node: dict[str, Any], metric: str) -> tuple[str, ...]:
    key = node.get("key") or []
    label = "  " * int(node.get("level", len(key))) + (str(key[-1]) if key else "global")
    status = str(node.get("status", "?"))
    if node.get("reason"):
        status += f" ({node['reason']})"
    served_by = node.get("served_by")
    serving = "itself" if served_by == node.get("node") else f"↑ {served_by}" if served_by else "nobody"
    return label, status, str(node.get("rows", "-")), _fmt(node.get("metric")), _versus(node, metric), serving


def _versus(node: dict[str, Any], metric: str) -> str:
    own, parent = node.get("metric"), node.get("parent_metric")
    if not isinstance(own, int | float) or not isinstance(parent, int | float):
        return "-"
    delta = own - parent
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return f"{delta:+.4f} vs {node.get('compared_with') or 'parent'} ({'better' if better else 'worse'})"


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def tree(
    model: Annotated[str, typer.Argument(help="Partitioned model, e.g. etd.")],
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the served one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the engine's JSON instead of a table.")] = False,
) -> None:
    """Show a partitioned model's node tree: status, rows, metric vs parent, and who serves each node."""
    from strata_cli.settings import Settings
    from strata_kernel.settings import load_settings

    with one_line_errors("settings"):
        settings = load_settings(Settings)
    body = fetch_tree(settings.inference_engine_url, model, version)
    if as_json:
        typer.echo(json.dumps(body))
        return
    Console(highlight=False, width=max(160, Console().width)).print(tree_table(body))
