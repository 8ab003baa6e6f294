"""What each registered version was built from (the inference engine's versions API): shown by `strata history`
next to the deployment records, and read by `strata reproduce`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from rich.markup import escape
from rich.table import Table

from strata_kernel.errors import StrataError
from strata_kernel.http import ServiceClient

LIBRARIES = ("xgboost", "tensorflow", "numpy")


class VersionsUnavailable(RuntimeError):
    """The engine cannot list the model's versions; the message says why in one line."""


def fetch_versions(base_url: str, model: str, **client_options: Any) -> list[dict[str, Any]]:
    """Every registered version of ``model`` as the engine lists it, newest first."""
    client = ServiceClient("inference_engine", base_url, timeout_seconds=30.0, retries=1, **client_options)
    try:
        status, body = client.relay("GET", f"/v1/models/{quote(model, safe='')}/versions")
    except StrataError as exc:
        raise VersionsUnavailable(f"{exc.message} ({base_url})") from exc
    finally:
        client.close()
    if status >= 400 or not isinstance(body, dict) or not isinstance(body.get("versions"), list):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise VersionsUnavailable(error.get("message") or f"inference_engine answered HTTP {status}")
    versions: list[dict[str, Any]] = body["versions"]
    return versions


def provenance_table(model: str, versions: list[dict[str, Any]]) -> Table:
    table = Table(title=escape(f"{model}: what each version was built from"))
    for column in ("version", "registered", "code commit", "dvc.lock", "lake tables read", "params", "libraries"):
        table.add_column(column)
    for version in versions:
        found = version.get("provenance") or {}
        table.add_row(
            f"v{version.get('version')}", escape(str(version.get("created_at") or "-")), escape(_commit(found)),
            escape(str(found.get("dvc_lock", "-")).removeprefix("sha256:")[:12]), escape(_tables(found)),
            escape(_params(found)), escape(_libraries(found)),
        )  # fmt: skip
    return table


def _commit(found: dict[str, str]) -> str:
    commit = found.get("code_commit")
    if not commit:
        return "- (trained before provenance was recorded)"
    return commit[:10] + (" + uncommitted changes" if found.get("code_dirty") == "true" else "")


def _tables(found: dict[str, str]) -> str:
    try:
        tables = json.loads(found.get("lake_tables") or "{}")
    except ValueError:
        return found.get("lake_tables", "-")
    return ", ".join(f"{name}@v{version}" for name, version in tables.items()) or "-"


def _params(found: dict[str, str]) -> str:
    try:
        params = json.loads(found.get("params") or "{}")
    except ValueError:
        return found.get("params", "-")
    return json.dumps(params, separators=(",", ":"))[:80] if params else "-"


def _libraries(found: dict[str, str]) -> str:
    present = [f"{name} {found[name]}" for name in LIBRARIES if found.get(name) not in (None, "absent")]
    return ", ".join(present) or "-"
