"""Fixtures of business_logic tests: a tiny catalog, fakes at the ports, an app over a tmp SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from business_logic.domain.restaurants import Catalog, EtdEstimate, EtdQuery, Restaurant, RestaurantSummary
from business_logic.entrypoints.app import create_app
from business_logic.errors import EstimatorUnavailable
from business_logic.ports import CatalogRepository, EtdEstimator, UnitOfWork
from business_logic.settings import Settings

FIXED_NOW = datetime(2026, 3, 14, 12, 30, 0)


def catalog_dict() -> dict[str, Any]:
    """Two cities, three restaurants; prices chosen so float addition would drift (0.1 + 0.2)."""
    return {
        "countries": [{"code": "PT", "name": "Portugal"}, {"code": "ES", "name": "Spain"}],
        "cities": [
            {"id": "c-0001", "name": "Lisbon", "country_code": "PT"},
            {"id": "c-0002", "name": "Madrid", "country_code": "ES"},
        ],
        "restaurants": [
            {
                "id": "r-000001",
                "name": "Tasca do Zé",
                "city_id": "c-0001",
                "country_code": "PT",
                "cuisine": "portuguese",
                "menu": [
                    {"item_id": "i-000001-01", "name": "Bacalhau", "price": 12.1},
                    {"item_id": "i-000001-02", "name": "Bica", "price": 0.2},
                ],
            },
            {
                "id": "r-000002",
                "name": "Sushi Lx",
                "city_id": "c-0001",
                "country_code": "PT",
                "cuisine": "japanese",
                "menu": [{"item_id": "i-000002-01", "name": "Nigiri set", "price": 15}],
            },
            {
                "id": "r-000003",
                "name": "Casa Paco",
                "city_id": "c-0002",
                "country_code": "ES",
                "cuisine": "spanish",
                "menu": [{"item_id": "i-000003-01", "name": "Tortilla", "price": 7.5}],
            },
        ],
    }


class FakeCatalogRepository(CatalogRepository):
    def __init__(self, restaurants: list[Restaurant]) -> None:
        self.restaurants = {restaurant.id: restaurant for restaurant in restaurants}
        self.revisions = 0

    def get(self, restaurant_id: str) -> Restaurant | None:
        return self.restaurants.get(restaurant_id)

    def search(self, *, city_id: str | None, text: str | None, limit: int) -> list[RestaurantSummary]:
        found = [r for r in self.restaurants.values() if city_id in (None, r.city_id)]
        found = [r for r in found if text is None or text.lower() in r.name.lower()]
        return [RestaurantSummary(r.id, r.name, r.city_id, r.city, r.country_code, r.cuisine) for r in found[:limit]]

    def count(self) -> int:
        return len(self.restaurants)

    def upsert(self, catalog: Catalog) -> None:
        self.restaurants.update({restaurant.id: restaurant for restaurant in catalog.restaurants})
        self.revisions += 1

    def revision(self) -> int:
        return self.revisions


class FakeUnitOfWork(UnitOfWork):
    """Records commits; ``catalog`` is shared across units so a test can inspect what was stored."""

    def __init__(self, catalog: FakeCatalogRepository) -> None:
        self.catalog = catalog
        self.commits = 0
        self.rollbacks = 0

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1


class FakeEstimator(EtdEstimator):
    """Answers ``minutes``, or raises EstimatorUnavailable(``down_reason``) while one is set."""

    def __init__(self, minutes: float = 33.2) -> None:
        self.minutes = minutes
        self.down_reason: str | None = None
        self.queries: list[EtdQuery] = []

    def estimate(self, query: EtdQuery) -> EtdEstimate:
        self.queries.append(query)
        if self.down_reason is not None:
            raise EstimatorUnavailable(self.down_reason)
        return EtdEstimate(minutes=self.minutes, model="etd", version="1")


class RecordingUnitOfWorkFactory:
    """Builds fake units over one shared repository and keeps them, so a test can check what was committed."""

    def __init__(self, catalog: FakeCatalogRepository) -> None:
        self.catalog = catalog
        self.units: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        unit = FakeUnitOfWork(self.catalog)
        self.units.append(unit)
        return unit


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def fake_uow_factory() -> RecordingUnitOfWorkFactory:
    from business_logic.adapters.catalog_file import parse_catalog

    return RecordingUnitOfWorkFactory(FakeCatalogRepository(list(parse_catalog(catalog_dict()).restaurants)))


@pytest.fixture
def catalog_data() -> dict[str, Any]:
    return catalog_dict()


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_dict()), encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # database_url="" (the embedded default) explicitly, so a developer's STRATA_DATABASE_URL cannot leak in
    return Settings(var_dir=tmp_path / "var", database_url="", log_json=False, data_processing_url="http://127.0.0.1:9")


@pytest.fixture
def estimator() -> FakeEstimator:
    return FakeEstimator()


@pytest.fixture
def loaded_settings(settings: Settings, catalog_file: Path) -> Settings:
    """Settings whose SQLite database already holds the test catalog (loaded like the CLI does)."""
    from business_logic import services
    from business_logic.adapters.catalog_file import read_catalog_file
    from business_logic.adapters.sql_database import SqlDatabase

    database = SqlDatabase(settings.database_url)
    services.load_catalog(database.unit_of_work, read_catalog_file(catalog_file))
    database.close()
    return settings


@pytest.fixture
def client(loaded_settings: Settings, estimator: FakeEstimator) -> Iterator[FlaskClient]:
    app = create_app(loaded_settings, estimator=estimator, clock=lambda: FIXED_NOW)
    yield app.test_client()
    app.extensions["business_logic.deps"].close()
