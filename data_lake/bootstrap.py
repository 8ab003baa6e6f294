"""Composition root: settings pick the adapters; tests pass fakes as keyword overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from data_lake.adapters.duckdb_query import DuckDBQueryEngine
from data_lake.adapters.local_storage import LocalLakeStorage
from data_lake.adapters.profile_engines import DuckDBProfileEngine, SparkProfileEngine
from data_lake.adapters.sqlalchemy_catalog import SqlAlchemyCatalog
from data_lake.adapters.sqlalchemy_profiles import SqlAlchemyCheckStore, SqlAlchemyProfileStore
from data_lake.ports import CatalogRepository, CheckStore, LakeStorage, ProfileEngine, ProfileStore
from data_lake.profiling import ProfileService
from data_lake.services import CatalogService, Clock, utc_now
from data_lake.settings import Settings


@dataclass(frozen=True, slots=True)
class Lake:
    """The data lake's use cases: the catalog (commits, tables) and the analysis side (profiles, diffs, SQL)."""

    catalog: CatalogService
    profiles: ProfileService
    checks: CheckStore | None = None


def bootstrap(
    settings: Settings,
    *,
    repository: CatalogRepository | None = None,
    storage: LakeStorage | None = None,
    profile_store: ProfileStore | None = None,
    profile_engine: ProfileEngine | None = None,
    check_store: CheckStore | None = None,
    clock: Clock = utc_now,
) -> Lake:
    root = settings.resolved_lake_root()
    catalog = SqlAlchemyCatalog.from_url(settings.resolved_catalog_url()) if repository is None else None
    repository = repository if repository is not None else catalog
    assert repository is not None
    storage = storage if storage is not None else LocalLakeStorage(root)
    if profile_store is None:
        if catalog is None:
            raise ValueError("a fake repository needs a profile_store too")
        profile_store = SqlAlchemyProfileStore(catalog.engine)
    if check_store is None and catalog is not None:
        check_store = SqlAlchemyCheckStore(catalog.engine)
    engine = profile_engine or _profile_engine(settings)
    profiles = ProfileService(
        repository,
        storage,
        profile_store,
        engine,
        query_engine=DuckDBQueryEngine(root),
        on_commit=settings.profile_on_commit,
        clock=clock,
        checks=check_store,
        # Spark profiles the large work; a small commit is read in this process, with the same numbers
        small_engine=DuckDBProfileEngine(root) if settings.profile_engine == "spark" else None,
        small_rows=settings.profile_spark_min_rows,
    )
    service = CatalogService(repository, storage, clock=clock, attempts=settings.commit_attempts,
                             after_commit=profiles.committed, checks=check_store,
                             retention=timedelta(seconds=settings.superseded_retention_seconds))  # fmt: skip
    return Lake(service, profiles, check_store)


def _profile_engine(settings: Settings) -> ProfileEngine:
    root = settings.resolved_lake_root()
    if settings.profile_engine == "duckdb":
        return DuckDBProfileEngine(root)

    def session() -> Any:
        from strata_kernel.spark import build_session

        # a bounded share of the cluster: cores.max executor cores of one core each (a local master ignores both)
        cores = {"spark.cores.max": str(settings.profile_spark_cores_max), "spark.executor.cores": "1"}
        return build_session("strata-lake-profiles", master=settings.spark_master, shuffle_partitions=4,
                             driver_memory=settings.spark_driver_memory, config=cores)  # fmt: skip

    return SparkProfileEngine(root, session, idle_seconds=settings.profile_spark_idle_seconds)
