"""Table definitions of the business_logic database (SQLite by default, PostgreSQL by URL).

Prices are stored as integer cents: exact on every backend, no Decimal emulation warnings on SQLite.
The help centre's tables (predefined answers, questions, feedback) and the event outbox share this ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

metadata = MetaData()

countries = Table(
    "countries",
    metadata,
    Column("code", String(8), primary_key=True),
    Column("name", String(200), nullable=False),
)

cities = Table(
    "cities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country_code", String(8), ForeignKey("countries.code"), nullable=False),
)

restaurants = Table(
    "restaurants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("city_id", String(64), ForeignKey("cities.id"), nullable=False),
    Column("country_code", String(8), ForeignKey("countries.code"), nullable=False),
    Column("cuisine", String(100), nullable=False, default=""),
    Index("ix_restaurants_city_name", "city_id", "name"),
)

#: one row, bumped by every catalog load in the same transaction: what an in-memory copy checks to stay current
catalog_revision = Table(
    "catalog_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
)

menu_items = Table(
    "menu_items",
    metadata,
    Column("restaurant_id", String(64), ForeignKey("restaurants.id"), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_cents", Integer, nullable=False),
)

# --- help-centre chatbot (docs/contracts.md) ---

help_predefined = Table(
    "help_predefined",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("question", String(500), nullable=False),
    Column("answer", Text, nullable=False),
    Column("article_url", String(1000)),
    #: order of the file the set was loaded from (the order of the buttons)
    Column("position", Integer, nullable=False),
)

help_questions = Table(
    "help_questions",
    metadata,
    Column("question_id", Uuid(as_uuid=True), primary_key=True),
    Column("session_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("predefined_id", String(64)),
    Column("text", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("answer_source", String(16), nullable=False),
    Column("article_id", String(200)),
    Column("confidence", Float),
    Column("model", String(100)),
    Column("model_version", String(50)),
    Column("request_id", String(64), nullable=False),
    Column("asked_at", DateTime, nullable=False),
    Index("ix_help_questions_session", "session_id", "asked_at"),
)

help_feedback = Table(
    "help_feedback",
    metadata,
    Column("feedback_id", Uuid(as_uuid=True), primary_key=True),
    # unique: one feedback per question, enforced by the database even between concurrent workers
    Column("question_id", Uuid(as_uuid=True), ForeignKey("help_questions.question_id"), nullable=False, unique=True),
    Column("helpful", Boolean, nullable=False),
    Column("given_at", DateTime, nullable=False),
)

# created_at is the event's own (local wall-clock) time; claimed_until / published_at are UTC, because leases
# and retry delays must not jump when the clocks change
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(100), nullable=False),
    Column("key_field", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim_token", String(36)),
    Column("claimed_until", DateTime),
    Column("published_at", DateTime),
    Column("last_error", String(500)),
    Index("ix_outbox_pending", "published_at", "id"),
)
