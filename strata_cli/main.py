"""`strata`: build the demo, run every service under a supervisor, and operate them.

Every failure ends with one line of why and a non-zero exit code.

The operator's commands (deploy, promote, rollback, ...) must start fast: a rollback is a page-time action. So this
module imports at its top only what every command needs; what only running or building the platform needs (httpx,
supervisord's client, the cluster, the build's flow and progress) is imported by the commands that use it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from strata_cli import lake_holds, lifecycle, mlflow_ui, models, operator
from strata_cli.settings import ClusterSettings, Settings
from strata_cli.topology import services, sidecars
from strata_kernel.cli import restrict_new_files
from strata_kernel.settings import load_settings

if TYPE_CHECKING:
    from strata_cli.topology import Program

app = typer.Typer(help="Strata: a layered ML platform.", no_args_is_help=True, add_completion=False)
service_app = typer.Typer(help="Start, stop or restart one running process.", no_args_is_help=True)
cluster_app = typer.Typer(help="The cluster profile's distributed components (deploy/cluster.yaml).",
                          no_args_is_help=True)  # fmt: skip


@app.callback()
def _private_state() -> None:
    """Everything `strata` starts (services, jobs, supervisord) creates its state files private (umask 027)."""
    restrict_new_files()


app.add_typer(service_app, name="service")
app.add_typer(cluster_app, name="cluster")
app.add_typer(lake_holds.lake_app, name="lake")
app.command("tree")(models.tree)
app.command("mlflow-ui")(mlflow_ui.mlflow_ui)
# the operator's deployment commands (comparative_eval's API); `status MODEL` is below, next to process status
for _command in (operator.deploy, operator.canary, operator.shadow, operator.promote, operator.rollback,
                 operator.history):  # fmt: skip
    app.command()(_command)
console = Console(highlight=False)
SIZES = ("tiny", "small", "full")


def _settings() -> Settings:
    return load_settings(Settings)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _check_size(size: str) -> str:
    if size not in SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(SIZES)}")
    return size


SizeOption = Annotated[str | None, typer.Option(help="Demo data size: tiny, small or full.")]


@app.command()
def build(size: SizeOption = None, seed: Annotated[int | None, typer.Option()] = None) -> None:
    """Run the development flow from scratch: simulate -> collect -> process -> features -> train -> deploy."""
    settings = _settings()
    _build(settings, _check_size(size or settings.demo_size), seed if seed is not None else settings.demo_seed)


def _build(settings: Settings, size: str, seed: int) -> dict[str, object]:
    from strata_cli.devflow import StepFailed, flow_steps, run_flow
    from strata_cli.progress import BuildProgress
    from strata_cli.waiting import NotReady

    console.print(f"[bold]Building the {size} demo[/bold] (seed {seed}) into {settings.var_dir.resolve()}")
    started = time.perf_counter()
    steps = len(flow_steps(settings, size, seed))
    if threading.current_thread() is threading.main_thread():  # SIGTERM unwinds too: the flow stops its helpers
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with BuildProgress(console, steps) as progress:
            report = run_flow(settings, size=size, seed=seed, on_start=progress.start, on_output=progress.output,
                              on_step=progress.finished)  # fmt: skip
    except (StepFailed, NotReady) as exc:
        raise _fail(str(exc)) from None
    console.print(f"Built in {time.perf_counter() - started:.1f}s")
    if report.training:
        _print_training(report.training)
    return report.training


def _print_training(training: dict[str, object]) -> None:
    table = Table(title=f"Model {training.get('model')} v{training.get('version')} (held-out window)")
    for column in ("metric", "model", "naive baseline (restaurant mean)"):
        table.add_column(column)
    table.add_row("MAE (min)", _fmt(training.get("mae")), _fmt(training.get("baseline_mae")))
    table.add_row("RMSE (min)", _fmt(training.get("rmse")), "")
    table.add_row("p90 |error| (min)", _fmt(training.get("p90_abs_error")), "")
    console.print(table)


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "-"


def _ensure_built(settings: Settings, size: str | None, rebuild: bool) -> None:
    marker = settings.var_dir / "demo" / "BUILT"
    wanted = size or settings.demo_size
    if not rebuild and marker.exists() and json.loads(marker.read_text()).get("size") == wanted:
        console.print(f"Demo already built ({wanted}); use --rebuild to start over")
        return
    _build(settings, _check_size(wanted), settings.demo_seed)


@dataclass
class Running:
    """A started Strata: supervisord, its config and the run id every process of the run carries."""

    process: subprocess.Popen[bytes]
    config: Path
    run_id: str
    run_dir: Path

    def stop(self) -> None:
        """Stop every process of the run; whatever supervisord leaves behind is swept."""
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the stop short
            signal.signal(signum, signal.SIG_IGN)
        swept = lifecycle.stop_all(self.process, self.run_id)
        if swept:
            console.print(f"[yellow]stopped {swept} processes supervisord had left running[/]")
        lifecycle.RunRecord.path(self.run_dir).unlink(missing_ok=True)


def _start_all(settings: Settings) -> Running:
    """Start every process; if any cannot become ready, stop all of them and fail with one line of why."""
    from strata_cli import supervisor
    from strata_cli.devflow import child_env
    from strata_cli.waiting import NotReady, wait_ready

    run_dir = settings.var_dir.resolve() / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        swept = lifecycle.sweep_leftovers(run_dir)
    except lifecycle.AlreadyRunning as exc:
        raise _fail(str(exc)) from None
    if swept:
        console.print(f"[yellow]stopped {swept} processes left running by an earlier start that did not stop[/]")
    programs: list[Program] = [*services(settings), *sidecars(settings), *_monitoring(settings, run_dir)]
    busy = lifecycle.busy_ports(p.port for p in programs)
    if busy:
        raise _fail(f"port(s) {', '.join(map(str, busy))} already in use by another process: stop it, or move "
                    "Strata with STRATA_<SERVICE>_URL / STRATA_SIDECAR_BASE_PORT")  # fmt: skip
    config = supervisor.write_config(run_dir, programs, Path.cwd())
    running = Running(lifecycle.start_supervisord(config, child_env(settings), run_id := lifecycle.new_run_id()),
                      config, run_id, run_dir)  # fmt: skip
    lifecycle.RunRecord.of_this_process(run_id).write(run_dir)
    urls = {p.name: p.url for p in programs}
    console.print(f"Starting {len(urls)} processes under supervisord (logs: {run_dir / 'logs'}) ...")
    try:
        seconds = wait_ready(
            urls,
            stall_seconds=settings.ready_timeout_seconds,
            processes={"supervisord": running.process},
            programs=lambda: supervisor.program_states(config),
            console=console,
            ready_paths={p.name: p.ready_path for p in programs},
        )
    except (NotReady, KeyboardInterrupt) as exc:
        why = str(exc) if isinstance(exc, NotReady) else "interrupted"
        console.print(f"[red]start failed:[/red] {escape(why)}; stopping every process it started ...")
        running.stop()
        raise _fail(f"{why} (logs: {run_dir / 'logs'})") from None
    console.print(f"All {len(urls)} processes ready in {seconds:.1f}s")
    return running


def _monitoring(settings: Settings, run_dir: Path) -> list[Program]:
    """Prometheus and Alertmanager when their Debian packages are installed (`make run` installs them as root)."""
    from strata_cli import monitoring_stack

    missing = monitoring_stack.missing_binaries()
    if missing:
        packages = " ".join(monitoring_stack.PACKAGES[binary] for binary in missing)
        console.print(f"[yellow]{', '.join(missing)} not installed: running without Prometheus and Alertmanager "
                      f"(apt-get install -y --no-install-recommends {packages})[/]")  # fmt: skip
        return []
    return list(monitoring_stack.monitoring_servers(settings, run_dir))


#: what an operator finds at each printed URL (path, words)
URL_GUIDE: dict[str, tuple[str, str]] = {
    "ui": ("/", "the web pages: ETD quote, Help chatbot, Features, Models (one navigation bar)"),
    "business_logic": ("/docs", "API docs (Swagger UI, works offline): restaurants, ETD, help questions"),
    "data_processing": ("/docs", "API docs: ETD estimate, feature directory, help answers"),
    "inference_engine": ("/docs", "API docs: models, versions, predict, routing"),
    "data_lake": ("/docs", "API docs: lake tables and commits"),
    "data_collection": ("/docs", "API docs: collector status"),
    "comparative_eval": ("/docs", "API docs: deployments, analysis (the `strata deploy/promote/rollback` API)"),
    "data_processing_stream": ("/metrics", "near-real-time feature worker: /healthz /readyz /metrics only"),
    "help_centre": ("/", "the demo help centre: static articles the crawler reads, linked by the chatbot"),
}


def _print_urls(settings: Settings) -> None:
    from strata_cli import monitoring_stack

    table = Table(title="Strata is running")
    for column in ("process", "URL", "what it is"):
        table.add_column(column)
    for service in services(settings):
        path, words = URL_GUIDE.get(service.name, ("/docs", ""))
        table.add_row(service.name, service.url + path, words)
    ports = ", ".join(f"{s.component.name} {s.port}" for s in sidecars(settings))
    table.add_row(
        "sidecar monitors", "http://127.0.0.1:<port>/metrics", f"one per process (Prometheus scrapes them): {ports}"
    )
    table.add_row(
        "MLflow UI", "not started", f"`strata mlflow-ui` serves runs and versions on {settings.mlflow_ui_url}"
    )
    if monitoring_stack.missing_binaries():
        table.add_row("Prometheus, Alertmanager", "not installed", "apt-get install prometheus prometheus-alertmanager")
    else:
        table.add_row(
            "prometheus",
            settings.prometheus_url + "/alerts",
            "scrapes every service and sidecar, evaluates the alert rules (monitoring/prometheus)",
        )
        table.add_row(
            "alertmanager",
            settings.alertmanager_url + "/",
            "groups and routes the firing alerts by component (monitoring/alertmanager)",
        )
        table.add_row("operations page", settings.ui_url + "/operations",
                      "the key panels and the firing alerts, drawn from Prometheus")  # fmt: skip
    console.print(table)
    console.print(f"Operator token (deploy/promote/rollback): {operator.token_file(settings)}")
    console.print(f"Open [bold]{settings.ui_url}/[/bold] for the pages. Ctrl-C stops everything; `strata status` "
                  "says what runs.")  # fmt: skip


@app.command()
def run(
    size: SizeOption = None,
    rebuild: bool = typer.Option(False, help="Rebuild the demo from scratch."),
    no_build: bool = typer.Option(False, "--no-build", help="Start on whatever var/ holds; never build."),
) -> None:
    """Build the demo if needed, start every service and sidecar, print the URLs; Ctrl-C stops everything."""
    settings = _settings()
    if not no_build:
        _ensure_built(settings, size, rebuild)
    # explicit handlers: a SIGINT inherited as "ignored" (background jobs) must still stop everything, and a
    # SIGTERM during the start-up wait must stop what was started (KeyboardInterrupt unwinds through it)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    running = _start_all(settings)
    _print_urls(settings)
    try:
        running.process.wait()
    except KeyboardInterrupt:
        console.print("Stopping every process ...")
    finally:
        running.stop()
    console.print("Stopped.")


@app.command()
def demo(size: SizeOption = None, rebuild: bool = typer.Option(False, help="Rebuild the demo from scratch.")) -> None:
    """Like `run`, then ask the UI's API for one ETD, print it, stop everything and exit 0."""
    import httpx

    settings = _settings()
    started = time.perf_counter()
    _ensure_built(settings, size, rebuild)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    running = _start_all(settings)
    try:
        answer = scripted_etd_request(settings.ui_url)
    except (httpx.HTTPError, RuntimeError) as exc:
        raise _fail(f"scripted ETD request failed: {exc}") from None
    finally:
        running.stop()
    console.print(
        f"[bold green]ETD for {answer['restaurant']} ({answer['basket']}): {answer['etd_minutes']} minutes[/]"
    )
    console.print(f"demo finished in {time.perf_counter() - started:.1f}s")


def scripted_etd_request(ui_url: str) -> dict[str, object]:
    """Pick the first restaurant and two menu lines, then ask for an ETD — through the UI's API only."""
    import httpx

    with httpx.Client(base_url=ui_url, timeout=10) as client:
        restaurants = client.get("/api/restaurants", params={"limit": 1}).raise_for_status().json()["restaurants"]
        if not restaurants:
            raise RuntimeError("the UI lists no restaurants")
        restaurant = client.get(f"/api/restaurants/{restaurants[0]['id']}").raise_for_status().json()
        basket = [
            {"item_id": item["item_id"], "quantity": q} for item, q in zip(restaurant["menu"][:2], (2, 1), strict=False)
        ]
        response = client.post("/api/etd", json={"restaurant_id": restaurant["id"], "basket": basket})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text.strip()}")
        lines = ", ".join(f"{b['quantity']} x {b['item_id']}" for b in basket)
        return {"restaurant": restaurant["name"], "basket": lines, **response.json()}


@app.command()
def stage(name: Annotated[str, typer.Argument(help="A stage of dvc.yaml, e.g. simulate, train_etd.")]) -> None:
    """Run one stage of the DVC pipeline (dvc.yaml calls it; `dvc repro` runs them all in order)."""
    from strata_cli.devflow import StepFailed
    from strata_cli.pipeline import StageFailed, run_stage
    from strata_cli.waiting import NotReady

    try:
        summary = run_stage(_settings(), name, on_output=lambda line: None)
    except (StageFailed, StepFailed, NotReady) as exc:
        raise _fail(str(exc)) from None
    trained = f": {summary['model']} v{summary.get('version')} registered" if "model" in summary else ""
    console.print(f"stage {name} done{trained}")


@app.command("reproduce")
def reproduce_command(
    model: Annotated[str, typer.Argument(help="A model a DVC stage trains: etd or helpbot.")],
    version: Annotated[int | None, typer.Option("--version", help="The registered version to rebuild.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="ISO time: the version that served then.")] = None,
    deploy: Annotated[
        bool, typer.Option("--deploy", help="Register the rebuild and deploy it (operator token).")
    ] = False,
    mode: Annotated[str, typer.Option("--mode", help="With --deploy: canary, shadow or full.")] = "full",
    weight: Annotated[int, typer.Option("--weight", help="With --deploy --mode canary: share of traffic, %.")] = 5,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the scratch worktree (var/reproduce/).")] = False,
) -> None:
    """Rebuild a past engine from what it records (commit, dvc.lock, params) in a scratch worktree and compare it
    with the registered one: bytes identical, predictions identical on its recorded sample, or different and why."""
    from strata_cli import reproduce

    settings = _settings()
    with operator.one_line_errors():
        chosen = _version_to_reproduce(settings, model, version, at)
        if deploy:
            operator.require_token(settings)  # before minutes of rebuilding, not after
        console.print(f"[bold]Reproducing {model} v{chosen}[/bold]")
        try:
            verdict = reproduce.reproduce(settings, model, chosen, console, deploy=deploy, keep=keep)
        except reproduce.ReproduceFailed as exc:
            raise _fail(str(exc)) from None
        colour = "red" if verdict["verdict"] == "different" else "green"
        console.print(f"[bold {colour}]{model} v{chosen}: {verdict['verdict']}[/] — {escape(str(verdict['why']))}")
        typer.echo(json.dumps(verdict))
        if deploy:
            adopted = int(verdict["adopted"]["version"])
            reason = f"rebuild of v{chosen} by strata reproduce ({verdict['verdict']})"
            with operator.client_for(settings, mutating=True) as client:
                record = client.deploy(model, adopted, mode, weight if mode == "canary" else None, reason)
            console.print(f"[green]✓[/green] {model} v{adopted} (rebuild of v{chosen}) deployed: "
                          f"{operator.split_text(record)}")  # fmt: skip
    if verdict["verdict"] == "different":
        raise typer.Exit(1)


def _version_to_reproduce(settings: Settings, model: str, version: int | None, at: str | None) -> int:
    if (version is None) == (at is None):
        raise operator.OperatorError("give exactly one of --version N or --at TIME", operator.BAD_INPUT)
    if version is not None:
        if version < 1:
            raise operator.OperatorError("--version must be >= 1", operator.BAD_INPUT)
        return version
    with operator.client_for(settings, mutating=False) as client:
        records = client.history(model, at)
    if not records or not records[0].get("stable_version"):
        raise operator.OperatorError(f"no version of {model} served at {at}", operator.BAD_INPUT)
    return int(records[0]["stable_version"])


@app.command()
def status(
    model: Annotated[str | None, typer.Argument(help="A model: show its deployment instead of the processes.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.")] = 2.0,
    iterations: Annotated[int | None, typer.Option("--iterations", hidden=True)] = None,
) -> None:
    """Readiness of every service and sidecar, then the deployments; with MODEL, that model's deployment:
    versions, traffic split, live metrics per route and the analysis verdict with its reasons."""
    with operator.one_line_errors():
        operator.check_watch_options(interval, iterations)
        if model is not None:
            operator.model_status(model, watching=watch, interval=interval, iterations=iterations)
            return
    settings = _settings()
    if watch:
        operator.watch(lambda: Group(_process_table(settings)[0], operator.overview(settings)),
                       interval=interval, iterations=iterations)  # fmt: skip
        return
    table, all_ready, answering = _process_table(settings)
    if not answering:
        raise _fail(f"Strata is not running: none of its {table.row_count} processes answers "
                    f"(ui {settings.ui_url}); start it with `make run`")  # fmt: skip
    console.print(table)
    console.print(operator.overview(settings))
    if not all_ready:
        raise typer.Exit(1)


def _process_table(settings: Settings) -> tuple[Table, bool, bool]:
    """The table, whether every process is ready, and whether any answers at all."""
    import httpx

    from strata_cli.waiting import ask

    table = Table()
    for column in ("process", "URL", "state"):
        table.add_column(column)
    all_ready, answering = True, False
    with httpx.Client() as client:
        for name, url, ready_path in _status_rows(settings):
            answer = ask(url, client, ready_path)
            all_ready &= answer.state == "ready"
            answering |= answer.state != "starting"
            state = "[green]ready[/]" if answer.state == "ready" else f"[red]{escape(answer.detail)}[/]"
            table.add_row(name, url, state)
    return table, all_ready, answering


def _status_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(process, URL, readiness path) of every process `strata run` starts here."""
    from strata_cli import monitoring_stack

    processes: list[Program] = [*services(settings), *sidecars(settings)]
    rows = [(p.name, p.url, p.ready_path) for p in processes]
    if not monitoring_stack.missing_binaries():
        rows += [("alertmanager", settings.alertmanager_url, "/-/ready"),
                 ("prometheus", settings.prometheus_url, "/-/ready")]  # fmt: skip
    return rows


def _service_action(action: str, name: str) -> None:
    from strata_cli import supervisor

    settings = _settings()
    known = {row[0] for row in _status_rows(settings)}
    if name not in known:
        raise _fail(f"unknown process {name!r}; expected one of {', '.join(sorted(known))}")
    config = supervisor.config_path(settings.var_dir.resolve() / "run")
    if not config.exists():
        raise _fail("Strata is not running here (no supervisord config); start it with `make run`")
    result = supervisor.ctl(config, action, name)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or "ERROR" in output:
        raise _fail(output.splitlines()[-1] if output else f"supervisorctl exited {result.returncode}")
    console.print(output)


@service_app.command("stop")
def service_stop(name: str) -> None:
    """Stop one process (the others keep serving)."""
    _service_action("stop", name)


@service_app.command("start")
def service_start(name: str) -> None:
    """Start one stopped process."""
    _service_action("start", name)


@service_app.command("restart")
def service_restart(name: str) -> None:
    """Restart one process."""
    _service_action("restart", name)


@cluster_app.command("up")
def cluster_up() -> None:
    """Start Spark (master + workers), tansu (Kafka) and the MLflow server, and empty the PostgreSQL and Redis
    databases, where STRATA_CONFIG_FILE (deploy/cluster.yaml) says; returns once every component is ready."""
    from strata_cli import cluster

    settings = load_settings(ClusterSettings)
    started = time.perf_counter()
    try:
        cluster.Cluster(settings, log=console.print).up()
    except cluster.ClusterError as exc:
        raise _fail(f"{exc}; stopped what had started") from None
    console.print(f"Cluster ready in {time.perf_counter() - started:.1f}s; `strata cluster down` stops it")


@cluster_app.command("down")
def cluster_down(
    drop_databases: bool = typer.Option(False, "--drop-databases", help="Also drop the PostgreSQL databases."),
) -> None:
    """Stop every process `strata cluster up` started (the databases keep their data until the next `up`)."""
    from strata_cli import cluster

    running = cluster.Cluster(load_settings(ClusterSettings))
    stopped = running.down()
    console.print(f"Stopped {stopped} cluster processes" if stopped else "No cluster process was running")
    if drop_databases:
        try:
            running.drop_databases()
        except cluster.ClusterError as exc:
            raise _fail(str(exc)) from None
        console.print("Dropped the cluster's databases")


@cluster_app.command("status")
def cluster_status() -> None:
    """Which cluster processes run, and the Spark master's applications."""
    import httpx

    from strata_cli import cluster

    settings = load_settings(ClusterSettings)
    running = cluster.Cluster(settings).running()
    if not running:
        raise _fail(f"no cluster runs from {settings.cluster_dir.resolve()}")
    for process in running:
        console.print(f"{process.name}: pid {process.pid}")
    with contextlib.suppress(httpx.HTTPError):
        for state, apps in cluster.spark_applications(settings).items():
            console.print(f"spark applications {state}: {', '.join(str(a.get('name')) for a in apps) or '-'}")


if __name__ == "__main__":
    app()
