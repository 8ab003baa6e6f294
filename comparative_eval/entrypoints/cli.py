"""Commands of comparative_eval: ``serve``, ``analyse``, ``check-templates``, ``operator-token``."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from comparative_eval.settings import Settings
from strata_kernel.cli import one_line_errors

#: imported by each gunicorn worker after the fork, never by a one-worker master (strata_kernel.serving.app_from)
APP_MODULE = "comparative_eval.entrypoints.app"

app = typer.Typer(help="Strata comparative evaluation: deployments, canary analysis, rollback.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: from comparative_eval_url, 8006).")] = None,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API under gunicorn (with the consumer and analysis threads when analysis_in_service)."""
    from strata_kernel.serving import app_from
    from strata_kernel.serving import serve as serve_app

    with one_line_errors():
        settings = Settings()
        chosen_port = port or urlsplit(settings.comparative_eval_url).port or 8006
        serve_app(app_from(APP_MODULE, settings), host=host, port=chosen_port, workers=workers,
                  preload_modules=(APP_MODULE,))  # fmt: skip


@app.command()
def analyse(
    once: Annotated[bool, typer.Option("--once", help="Consume what is there, judge once, exit.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Judge every candidate now, whatever its interval.")] = False,
) -> None:
    """Consume predictions and outcomes, then judge every candidate that is due (and act on the verdict)."""
    from comparative_eval.bootstrap import bootstrap
    from strata_kernel.background import BackgroundLoop
    from strata_kernel.logs import configure_logging

    with one_line_errors("analyse"):
        settings = Settings()
        configure_logging("comparative_eval", settings.log_level, settings.log_json)
        deps = bootstrap(settings)
        try:
            if once:  # an operator's round: now, whoever leads the loops
                typer.echo(json.dumps(_round(deps, force)))
                return

            def round_and_report() -> None:
                summary = _round(deps, force)
                if summary["verdicts"]:
                    typer.echo(json.dumps(summary))

            # the same lease as the service's loops: while a service process leads, this worker stands by
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            BackgroundLoop("comparative-eval-analyse", round_and_report, settings.analysis_tick_seconds,
                           lease=deps.lease).run(stop)  # fmt: skip
        except KeyboardInterrupt:
            pass
        finally:
            deps.close()


def _round(deps: Any, force: bool) -> dict[str, Any]:
    events = deps.ingestor.drain()
    verdicts = deps.analysis.run_once(force=force)
    return {
        "events": events,
        "verdicts": [
            {
                k: v
                for k, v in verdict.to_dict().items()
                if k in {"model", "revision", "verdict", "reasons", "at", "action"}
            }
            for verdict in verdicts
        ],
    }


@app.command("record-initial")
def record_initial(
    deployments: Annotated[list[str], typer.Argument(help="MODEL=VERSION: the version each model serves now.")],
    actor: Annotated[str, typer.Option(help="Who deployed it (kept in the history).")] = "strata build",
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "first deployment",
) -> None:
    """Record each model's first deployment (stable at 100%), as `strata build` does after deploying by alias."""
    from comparative_eval.bootstrap import bootstrap
    from strata_kernel.errors import BadRequest

    with one_line_errors("record-initial"):
        pairs = [item.partition("=") for item in deployments]
        if any(not model or not version for model, _, version in pairs):
            raise BadRequest("give MODEL=VERSION pairs, e.g. etd=1 helpbot=1")
        deps = bootstrap(Settings())
        try:
            records = [deps.deployments.record_initial(m, v, actor, reason) for m, _, v in pairs]
        finally:
            deps.close()
    for record in records:
        typer.echo(json.dumps({"model": record.model, "revision": record.revision, "stable": record.stable_version}))


@app.command("check-templates")
def check_templates() -> None:
    """Load every analysis template; a malformed one fails naming the key."""
    from comparative_eval.adapters.template_files import YamlTemplates

    with one_line_errors("check-templates"):
        settings = Settings()
        names = YamlTemplates(settings.templates_dir).check_all()
    typer.echo(f"{len(names)} templates ok: {', '.join(names)}")


@app.command("operator-token")
def operator_token() -> None:
    """Print the operator token (generated into <var_dir>/comparative_eval/operator_token if not set)."""
    from comparative_eval.bootstrap import resolve_operator_token

    with one_line_errors("operator-token"):
        typer.echo(resolve_operator_token(Settings()))
