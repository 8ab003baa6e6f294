"""Tables of the comparative_eval database (SQLite by default, PostgreSQL by URL). Times are naive UTC."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("stable_version", String(32), nullable=False),
    Column("candidate_version", String(32), nullable=True),
    Column("mode", String(16), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("node_pins", JSON, nullable=False),
    Column("step", Integer, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # deploy | canary | shadow | promote | rollback; added after the first release (sql_store adds it to old tables)
    Column("action", String(16), nullable=False, server_default=""),
    # two writers racing past their locks still cannot both take revision N: one gets an IntegrityError
    UniqueConstraint("model", "revision", name="uq_deployments_model_revision"),
    Index("ix_deployments_model_created", "model", "created_at"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(64), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("at", DateTime, nullable=False),
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("tests", JSON, nullable=False),
    Column("action", Text, nullable=True),
    Column("at", DateTime, nullable=False),
    Index("ix_verdicts_model_revision", "model", "revision"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("request_id", String(128), nullable=False),
    Column("model", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("route", String(16), nullable=False),
    Column("event_time", DateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=True),
    Column("value", Float, nullable=True),
    Column("label", String(256), nullable=True),
    Column("instance", JSON, nullable=True),
    Column("node", String(256), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_predictions_request", "request_id"),
    Index("ix_predictions_window", "model", "version", "event_time"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("event_id", String(128), nullable=False),
    Column("truth", Float, nullable=True),
    Column("helpful", Boolean, nullable=True),
)
