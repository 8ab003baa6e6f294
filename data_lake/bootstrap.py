"""Composition root: settings pick the adapters; tests pass fakes as keyword overrides."""

from __future__ import annotations

from data_lake.adapters.local_storage import LocalLakeStorage
from data_lake.adapters.sqlalchemy_catalog import SqlAlchemyCatalog
from data_lake.ports import CatalogRepository, LakeStorage
from data_lake.services import CatalogService, Clock, utc_now
from data_lake.settings import Settings


def bootstrap(
    settings: Settings,
    *,
    repository: CatalogRepository | None = None,
    storage: LakeStorage | None = None,
    clock: Clock = utc_now,
) -> CatalogService:
    repository = repository if repository is not None else SqlAlchemyCatalog.from_url(settings.resolved_catalog_url())
    storage = storage if storage is not None else LocalLakeStorage(settings.resolved_lake_root())
    return CatalogService(repository, storage, clock=clock, attempts=settings.commit_attempts)
