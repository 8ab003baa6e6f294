"""Table definitions of the business_logic database (SQLite by default, PostgreSQL by URL).

Prices are stored as integer cents: exact on every backend, no Decimal emulation warnings on SQLite.
Future tables of the same database (help-centre questions, ...) are added to this ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table

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

menu_items = Table(
    "menu_items",
    metadata,
    Column("restaurant_id", String(64), ForeignKey("restaurants.id"), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_cents", Integer, nullable=False),
)
