"""The SQL store: engine from a URL, schema on first use, and a unit of work with four repositories.

The URL scheme picks the backend (``sqlite:///...`` embedded, ``postgresql+psycopg://...`` served).
Vendor exceptions become our errors here, in one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, and_, func, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from comparative_eval.adapters import sql_tables as t
from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.events import Outcome, Prediction
from comparative_eval.domain.verdicts import Observation, Verdict
from comparative_eval.errors import ChangeConflict, DatabaseUnavailable
from comparative_eval.ports import (
    Added,
    AuditRepository,
    DeploymentRepository,
    SampleRepository,
    UnitOfWork,
    VerdictRepository,
)
from strata_kernel.sql import CONNECTION_ERRORS, SchemaOnFirstUse, create_sql_engine, first_line

# WAL: readers never wait for the consumer thread's writes; BEGIN IMMEDIATE: concurrent writers queue, not fail
SQLITE_PRAGMAS = ("busy_timeout=10000", "journal_mode=WAL")


class SqlDatabase:
    """Owns the engine; creates missing tables on first use (retried until the database answers)."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = create_sql_engine(
            url, sqlite_pragmas=SQLITE_PRAGMAS, sqlite_begin_immediate=True, **engine_options
        )
        self._schema = SchemaOnFirstUse(self.engine, t.metadata, DatabaseUnavailable)
        self._upgraded = False

    def unit_of_work(self) -> SqlUnitOfWork:
        self._schema.ensure()
        if not self._upgraded:
            _add_missing_columns(self.engine)
            self._upgraded = True
        return SqlUnitOfWork(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def _add_missing_columns(engine: Engine) -> None:
    """Tables created before ``deployments.action`` existed get it (empty for their old records)."""
    try:
        columns = {column["name"] for column in inspect(engine).get_columns(t.deployments.name)}
        if "action" not in columns:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"ALTER TABLE {t.deployments.name} ADD COLUMN action VARCHAR(16) NOT NULL DEFAULT ''"
                )
    except CONNECTION_ERRORS as exc:
        raise DatabaseUnavailable(f"database unavailable: {first_line(exc)}") from exc


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> SqlUnitOfWork:
        try:
            self._connection = self._engine.connect()
            self._transaction = self._connection.begin()
        except CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(f"database unavailable: {first_line(exc)}") from exc
        self.deployments = SqlDeployments(self._connection)
        self.audit = SqlAudit(self._connection)
        self.verdicts = SqlVerdicts(self._connection)
        self.samples = SqlSamples(self._connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            super().__exit__(exc_type, exc, traceback)
        finally:
            self._connection.close()
        if isinstance(exc, CONNECTION_ERRORS):
            raise DatabaseUnavailable(f"database unavailable: {first_line(exc)}") from exc

    def commit(self) -> None:
        try:
            self._transaction.commit()
        except IntegrityError as exc:
            raise ChangeConflict(f"a concurrent change was stored first: {first_line(exc)}") from exc

    def rollback(self) -> None:
        if self._transaction.is_active:
            self._transaction.rollback()


class SqlDeployments(DeploymentRepository):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def current(self, model: str) -> DeploymentRecord | None:
        query = select(t.deployments).where(t.deployments.c.model == model)
        row = self._c.execute(query.order_by(t.deployments.c.revision.desc()).limit(1)).mappings().first()
        return None if row is None else _record(row)

    def currents(self) -> list[DeploymentRecord]:
        latest = (
            select(t.deployments.c.model, func.max(t.deployments.c.revision).label("revision"))
            .group_by(t.deployments.c.model)
            .subquery()
        )
        query = select(t.deployments).join(
            latest, and_(t.deployments.c.model == latest.c.model, t.deployments.c.revision == latest.c.revision)
        )
        return [_record(row) for row in self._c.execute(query.order_by(t.deployments.c.model)).mappings()]

    def history(self, model: str) -> list[DeploymentRecord]:
        query = select(t.deployments).where(t.deployments.c.model == model).order_by(t.deployments.c.revision.desc())
        return [_record(row) for row in self._c.execute(query).mappings()]

    def at(self, model: str, instant: datetime) -> DeploymentRecord | None:
        query = (
            select(t.deployments)
            .where(t.deployments.c.model == model, t.deployments.c.created_at <= instant)
            .order_by(t.deployments.c.created_at.desc(), t.deployments.c.revision.desc())
            .limit(1)
        )
        row = self._c.execute(query).mappings().first()
        return None if row is None else _record(row)

    def append(self, record: DeploymentRecord) -> None:
        values = asdict(record)  # the table's columns are the record's fields
        try:
            self._c.execute(insert(t.deployments).values(**values))
        except IntegrityError as exc:
            raise ChangeConflict(
                f"revision {record.revision} of model {record.model} was stored by a concurrent change"
            ) from exc


def _record(row: Any) -> DeploymentRecord:
    return DeploymentRecord(
        model=row["model"],
        revision=row["revision"],
        stable_version=row["stable_version"],
        candidate_version=row["candidate_version"],
        mode=row["mode"],
        weight=row["weight"],
        node_pins=dict(row["node_pins"] or {}),
        step=row["step"],
        actor=row["actor"],
        reason=row["reason"],
        created_at=row["created_at"],
        action=row["action"] or "",
    )


class SqlAudit(AuditRepository):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(
        self, model: str, action: str, actor: str, outcome: str, reason: str, detail: dict[str, Any], at: datetime
    ) -> None:
        self._c.execute(
            insert(t.audit).values(
                model=model, action=action, actor=actor, outcome=outcome, reason=reason, detail=detail, at=at
            )
        )

    def recent(self, model: str, limit: int = 50) -> list[dict[str, Any]]:
        query = select(t.audit).where(t.audit.c.model == model).order_by(t.audit.c.id.desc()).limit(limit)
        return [dict(row) for row in self._c.execute(query).mappings()]


class SqlVerdicts(VerdictRepository):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, verdict: Verdict) -> None:
        self._c.execute(
            insert(t.verdicts).values(
                model=verdict.model,
                revision=verdict.revision,
                verdict=verdict.verdict,
                reasons=verdict.reasons,
                metrics=verdict.metrics,
                tests=_finite(verdict.tests),
                action=verdict.action,
                at=verdict.at,
            )
        )

    def latest(self, model: str, revision: int | None = None) -> Verdict | None:
        query = select(t.verdicts).where(t.verdicts.c.model == model)
        if revision is not None:
            query = query.where(t.verdicts.c.revision == revision)
        row = self._c.execute(query.order_by(t.verdicts.c.id.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        return Verdict(
            model=row["model"],
            revision=row["revision"],
            verdict=row["verdict"],
            reasons=list(row["reasons"]),
            metrics=dict(row["metrics"]),
            tests=dict(row["tests"]),
            at=row["at"],
            action=row["action"],
        )


def _finite(value: Any) -> Any:
    """JSON has no infinity: an unbounded latency ratio is stored as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value


class SqlSamples(SampleRepository):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_predictions(self, predictions: Sequence[Prediction]) -> Added:
        unique = {p.event_id: p for p in predictions}
        known = self._existing(t.predictions.c.event_id, list(unique))
        fresh = [p for event_id, p in unique.items() if event_id not in known]
        if not fresh:
            return Added()
        self._c.execute(insert(t.predictions), [_prediction_row(p) for p in fresh])
        joined = select(t.outcomes.c.request_id).where(t.outcomes.c.request_id.in_({p.request_id for p in fresh}))
        with_outcome = {row[0] for row in self._c.execute(joined)}
        return Added(
            frozenset(p.event_id for p in fresh), dict(Counter(p.route for p in fresh if p.request_id in with_outcome))
        )

    def add_outcomes(self, outcomes: Sequence[Outcome]) -> Added:
        unique: dict[tuple[str, str], Outcome] = {}
        for outcome in outcomes:
            unique.setdefault((outcome.kind, outcome.request_id), outcome)
        if not unique:
            return Added()
        query = select(t.outcomes.c.kind, t.outcomes.c.request_id).where(
            t.outcomes.c.request_id.in_({request_id for _, request_id in unique})
        )
        known = {(row[0], row[1]) for row in self._c.execute(query)}
        fresh = [o for key, o in unique.items() if key not in known]
        if not fresh:
            return Added()
        rows = [
            {"kind": o.kind, "request_id": o.request_id, "event_id": o.event_id, "truth": o.truth, "helpful": o.helpful}
            for o in fresh
        ]
        self._c.execute(insert(t.outcomes), rows)
        routes = select(t.predictions.c.route).where(t.predictions.c.request_id.in_({o.request_id for o in fresh}))
        return Added(frozenset(o.event_id for o in fresh), dict(Counter(row[0] for row in self._c.execute(routes))))

    def window(self, model: str, version: str, routes: Sequence[str], since: datetime) -> list[Observation]:
        p = t.predictions
        etd = t.outcomes.alias("etd")
        feedback = t.outcomes.alias("feedback")
        query = (
            select(p.c.ok, p.c.latency_ms, p.c.value, etd.c.truth, feedback.c.helpful)
            .select_from(
                p.outerjoin(etd, and_(etd.c.kind == "etd", etd.c.request_id == p.c.request_id)).outerjoin(
                    feedback, and_(feedback.c.kind == "feedback", feedback.c.request_id == p.c.request_id)
                )
            )
            .where(p.c.model == model, p.c.version == version, p.c.route.in_(list(routes)), p.c.event_time >= since)
        )
        return [
            Observation(
                ok=bool(ok),
                latency_ms=latency,
                abs_error=abs(value - truth) if value is not None and truth is not None else None,
                helpful=None if helpful is None else bool(helpful),
            )
            for ok, latency, value, truth, helpful in self._c.execute(query)
        ]

    def recent_instances(self, model: str, limit: int) -> list[dict[str, Any]]:
        query = (
            select(t.predictions.c.instance)
            .where(
                t.predictions.c.model == model,
                t.predictions.c.route != "shadow",  # a shadow row repeats the instance its stable row logged
                t.predictions.c.instance.is_not(None),
            )
            .order_by(t.predictions.c.event_time.desc())
            .limit(limit)
        )
        return [row[0] for row in self._c.execute(query) if isinstance(row[0], dict)]

    def _existing(self, column: Any, values: list[str]) -> set[str]:
        if not values:
            return set()
        return {row[0] for row in self._c.execute(select(column).where(column.in_(values)))}


def _prediction_row(p: Prediction) -> dict[str, Any]:
    return {
        "event_id": p.event_id,
        "request_id": p.request_id,
        "model": p.model,
        "version": p.version,
        "route": p.route,
        "event_time": p.event_time,
        "ok": p.ok,
        "latency_ms": p.latency_ms,
        "value": p.value,
        "label": p.label[:256] if p.label else None,
        "instance": p.instance,
        "node": p.node,
        "error": p.error,
    }
