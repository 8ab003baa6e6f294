"""`strata lake holds | release`: the table versions training runs keep past the lake's retention, and letting go.

Every partitioned training run holds the table version it read (holder ``<model> training run <run id>``), so the
lake never deletes that version's files; nothing releases them on its own, so a platform that retrains often keeps
every training set. The operator lists the holds and releases the ones no rebuild needs any more; a version nobody
holds is then deleted by the table's first commit after the retention period, like any replaced version.

Both commands carry the operator token (the data lake's API names training runs only to the platform's callers, and
only the operator releases). Failures are one red line: exit 2 for a refusal (unknown table, version or hold, a
bad token), exit 1 when the data lake cannot be reached (naming its URL) or fails on its side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from strata_cli.operator import OperatorError, one_line_errors, operator_settings, out, require_token
from strata_cli.settings import Settings
from strata_kernel.cli import BAD_INPUT, FAILURE
from strata_kernel.errors import StrataError, Unavailable
from strata_kernel.http import ServiceClient

if TYPE_CHECKING:
    from strata_kernel.lake import LakeClient  # imported when used: it loads pyarrow, which `strata` alone must not

lake_app = typer.Typer(help="The data lake's holds: table versions kept past the retention.", no_args_is_help=True)

TableArg = Annotated[str, typer.Argument(help="Lake table, <zone>.<name>, e.g. processed.etd_training_set.")]


def _lake(settings: Settings) -> tuple[LakeClient, ServiceClient]:
    from strata_kernel.lake import LakeClient

    # no retries: a release that timed out may have been applied, and an operator re-runs a command anyway
    catalog = ServiceClient("data_lake", settings.data_lake_url, timeout_seconds=10.0, retries=0,
                            token=require_token(settings))  # fmt: skip
    return LakeClient(settings.lake(), catalog), catalog


def _call(settings: Settings, action: str, call: Any) -> Any:
    """Run one call of the lake's client; its failure becomes the operator's one line."""
    lake, catalog = _lake(settings)
    try:
        return call(lake)
    except Unavailable as exc:
        raise OperatorError(f"{exc.message} ({settings.data_lake_url})", FAILURE) from None
    except StrataError as exc:
        if exc.code == "data_lake_refused":  # 401/403: the operator's token, not a fault of this machine's service
            raise OperatorError(f"could not {action}: {exc.message.partition(': ')[2]}", BAD_INPUT) from None
        raise OperatorError(exc.message, BAD_INPUT if exc.status < 500 else FAILURE) from None
    finally:
        catalog.close()


def holds_table(table: str, holds: list[dict[str, Any]]) -> Table:
    shown = Table(title=f"{escape(table)}: {len(holds)} hold{'s' if len(holds) != 1 else ''}", title_justify="left")
    for column in ("version", "holder", "held at"):
        shown.add_column(column, no_wrap=column != "holder")
    for hold in holds:
        held_at = str(hold.get("held_at", "")).replace("T", " ")[:19]
        shown.add_row(f"v{hold.get('version')}", escape(str(hold.get("holder", ""))), held_at)
    return shown


@lake_app.command("holds")
def holds(table: TableArg) -> None:
    """List who keeps which versions of a table past the lake's retention (training runs hold what they read)."""
    with one_line_errors():
        settings = operator_settings()
        found = _call(settings, "list the holds", lambda lake: lake.holds(table))
        if not found:
            out().print(f"{escape(table)}: no holds; the retention deletes replaced versions as usual")
            return
        out().print(holds_table(table, found))


@lake_app.command("release")
def release(
    table: TableArg,
    version: Annotated[int | None, typer.Option("--version", help="The held version.")] = None,
    holder: Annotated[str | None, typer.Option("--holder", help="Who holds it, exactly as `holds` shows.")] = None,
) -> None:
    """Release one hold: once nobody holds the version, the table's next commit after the retention deletes it."""
    with one_line_errors():
        if version is None or version < 1:
            raise OperatorError("--version is required (a table version >= 1)", BAD_INPUT)
        if not holder or len(holder) > 200:
            raise OperatorError("--holder is required (1 to 200 characters, as `strata lake holds` shows it)",
                                BAD_INPUT)  # fmt: skip
        settings = operator_settings()
        _call(settings, "release the hold", lambda lake: lake.release(table, version, holder))
        out().print(f"[green]✓[/green] released {escape(table)} v{version} held by {escape(holder)}; once no "
                    "holder keeps it, its files go with the first commit after the retention period")  # fmt: skip
