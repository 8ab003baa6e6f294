"""Helpers several test suites share: a throw-away PostgreSQL schema, a WSGI app served on a free port, a
service credential the app under test accepts, and an event log whose broker refuses a commit as Kafka does after a
rebalance."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse

from strata_kernel.contracts.auth import OPERATOR, Credential, issue_operator_token, service_credential
from strata_kernel.eventlog import Event, EventConsumer, EventLog
from strata_kernel.lake import TableInfo, committed_files
from strata_kernel.loopback import free_port as free_port  # re-exported: the tests import them from here
from strata_kernel.loopback import free_port_run as free_port_run
from strata_kernel.loopback import port_free as port_free
from strata_kernel.settings import StrataSettings

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_schema_url(prefix: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped afterwards; skips when PostgreSQL is unreachable."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc.orig).splitlines()[0]}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def serve(app: Any) -> tuple[BaseWSGIServer, str]:
    """Serve a WSGI app from a daemon thread on a free loopback port; returns the server and its URL."""
    # werkzeug logs each request from its thread; under CliRunner that stream may already be closed
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def json_of(response: TestResponse) -> Any:
    """A test client response's JSON body. `response.json` is None when the body is not JSON (an HTML error page, an
    empty 204): this fails there showing the status and what came back instead of a TypeError on indexing None."""
    body = response.json
    assert body is not None, f"{response.status} {response.content_type}: {response.get_data(as_text=True)[:300]!r}"
    return body


def service_credential_for(settings: StrataSettings, caller: str) -> Credential:
    """``caller``'s credential as the app under test (same var_dir) will accept it; ``operator``: the operator's
    token (the configured one, else the file comparative_eval would generate)."""
    if caller == OPERATOR:
        return Credential(OPERATOR, settings.operator_token or issue_operator_token(settings.var_dir)[0])
    return service_credential(caller, settings.credentials_directory())


def as_caller(client: FlaskClient, settings: StrataSettings, caller: str) -> FlaskClient:
    """Make every request of a Flask test client carry ``caller``'s service credential."""
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {service_credential_for(settings, caller).token}"
    return client


def shared_credential(caller: str) -> Credential:
    """``caller``'s credential in the test session's shared credentials directory (tests/conftest.py)."""
    return service_credential(caller, Path(os.environ["STRATA_CREDENTIALS_DIR"]))


def committed_rows(info: TableInfo) -> list[dict[str, Any]]:
    """The rows of the lake table version ``info`` names, read as every Strata reader does: the files the catalog
    lists (a glob of the directory would also see the files an overwrite superseded, kept for the retention)."""
    import pyarrow.dataset as ds

    files = committed_files(info)
    table = ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=str(info.location)).to_table()
    return table.to_pylist()


class RebalancedEventLog(EventLog):
    """A real event log (the local one) on which the first commit of each consumer of ``topics`` that has events to
    commit is refused as the Kafka adapter refuses one after a rebalance (strata_kernel.eventlog.kafka: a warning,
    nothing raised), and the partition comes back to the consumer at the group's committed offset: its next poll
    returns the same batch again. ``refused`` lists the topics whose commit was refused."""

    def __init__(self, inner: EventLog, topics: Sequence[str]) -> None:
        self.inner = inner
        self.to_refuse = set(topics)
        self.refused: list[str] = []

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        self.inner.publish(topic, events, key_field)

    def consumer(self, topic: str, group: str) -> EventConsumer:
        return _RebalancedConsumer(self, topic, group)

    def close(self) -> None:
        self.inner.close()


class _RebalancedConsumer(EventConsumer):
    def __init__(self, log: RebalancedEventLog, topic: str, group: str) -> None:
        self._log, self._topic, self._group = log, topic, group
        self._inner = log.inner.consumer(topic, group)
        self._uncommitted = False

    def poll(self, max_records: int = 500, timeout_seconds: float = 1.0) -> list[Event]:
        events = self._inner.poll(max_records, timeout_seconds)
        self._uncommitted = self._uncommitted or bool(events)
        return events

    def commit(self) -> None:
        if self._uncommitted and self._topic in self._log.to_refuse:
            self._log.to_refuse.discard(self._topic)
            self._log.refused.append(self._topic)
            self._inner.close()  # the rebalance: the partition is read again from the committed offset
            self._inner = self._log.inner.consumer(self._topic, self._group)
        else:
            self._inner.commit()
        self._uncommitted = False

    def close(self) -> None:
        self._inner.close()

    def caught_up(self) -> bool:
        return self._inner.caught_up()


def answers_lean_and_through_flask(
    make_client: Callable[[], FlaskClient], send: Callable[[FlaskClient], TestResponse]
) -> dict[str, dict[str, Any]]:
    """What a caller sees (status, JSON body, headers but the request id) and which counters moved, with the app's
    lean routes on ("lean") and off ("flask"), each on a new app. "dispatched" says whether Flask served it."""
    seen: dict[str, dict[str, Any]] = {}
    for path in ("flask", "lean"):
        client = make_client()
        app = client.application
        app.extensions["strata.lean_router"].enabled = path == "lean"
        dispatched = _count_flask_dispatches(app)
        before = counter_samples(app.extensions["strata.registry"])
        response = send(client)
        after = counter_samples(app.extensions["strata.registry"])
        seen[path] = {
            "status": response.status,
            "body": response.get_json(silent=True),
            "headers": sorted((name, value) for name, value in response.headers if name.lower() != "x-request-id"),
            "counters": {key: value - before.get(key, 0.0) for key, value in after.items() if value != before.get(key)},
            "dispatched": bool(dispatched),
        }
    return seen


def _count_flask_dispatches(app: Any) -> list[bool]:
    """A list that gets an item each time Flask dispatches a request of ``app``."""
    dispatched: list[bool] = []
    flask_dispatch = app.full_dispatch_request

    def counted() -> Any:
        dispatched.append(True)
        return flask_dispatch()

    app.full_dispatch_request = counted
    return dispatched


def counter_samples(registry: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every counter and histogram-count sample (durations differ by nature)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name.endswith(("_total", "_count")) and "_background_" not in sample.name  # loops tick on their own
    }
