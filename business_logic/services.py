"""Use cases of business_logic over its ports. Nothing here knows Flask, SQL or HTTP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from business_logic.domain.catalog import check_catalog
from business_logic.domain.restaurants import BasketLine, Catalog, EtdQuery, EtdQuote, Restaurant, RestaurantSummary
from business_logic.domain.rules import check_basket_shape, price_basket, whole_minutes
from business_logic.errors import EstimatorUnavailable, EtdUnavailable, RestaurantNotFound
from business_logic.ports import Clock, EtdEstimator, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_LIST_LIMIT = 1000


def list_restaurants(
    uow_factory: UnitOfWorkFactory, *, city_id: str | None = None, text: str | None = None, limit: int = 100
) -> list[RestaurantSummary]:
    with uow_factory() as uow:
        return uow.catalog.search(city_id=city_id or None, text=(text or "").strip() or None, limit=limit)


def get_restaurant(restaurants: RestaurantCache | UnitOfWorkFactory, restaurant_id: str) -> Restaurant:
    if isinstance(restaurants, RestaurantCache):
        restaurant = restaurants.get(restaurant_id)
    else:
        with restaurants() as uow:
            restaurant = uow.catalog.get(restaurant_id)
    if restaurant is None:
        raise RestaurantNotFound(restaurant_id)
    return restaurant


class RestaurantCache:
    """Restaurants with their menus kept in memory: every ETD quote reads one, a catalog load changes them rarely.

    Honest invalidation: every load moves the catalog's revision in its own transaction, and the cache asks for the
    revision at most every ``check_seconds`` and forgets everything when it moved, so a load reaches quotes within
    ``check_seconds``, whichever process loaded it. An unknown restaurant is not remembered (it is looked up
    again), and a copy read while the revision moved is not kept.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        check_seconds: float = 1.0,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow_factory = uow_factory
        self._check_seconds = check_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[str, Restaurant] = {}
        self._revision: int | None = None
        self._generation = 0  # moves whenever the entries are dropped
        self._next_check = 0.0

    def get(self, restaurant_id: str) -> Restaurant | None:
        if self._check_seconds <= 0:
            return self._read(restaurant_id)
        self._check_revision()
        generation = self._generation
        found = self._entries.get(restaurant_id)
        if found is not None:
            return found
        found = self._read(restaurant_id)
        if found is not None:
            with self._lock:
                if generation == self._generation and len(self._entries) < self._max_entries:
                    self._entries[restaurant_id] = found
        return found

    def _read(self, restaurant_id: str) -> Restaurant | None:
        with self._uow_factory() as uow:
            return uow.catalog.get(restaurant_id)

    def _check_revision(self) -> None:
        now = self._monotonic()
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + self._check_seconds  # one caller checks; the others use what is there
        try:
            with self._uow_factory() as uow:
                revision = uow.catalog.revision()
        except Exception:
            self._next_check = 0.0  # the database failed: the next quote asks again (and fails the same way)
            raise
        with self._lock:
            if revision != self._revision:
                self._entries = {}
                self._generation += 1
                self._revision = revision


def count_restaurants(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory() as uow:
        return uow.catalog.count()


def load_catalog(uow_factory: UnitOfWorkFactory, catalog: Catalog) -> None:
    """Upsert a whole catalog in one transaction: an inconsistent file changes nothing."""
    check_catalog(catalog)
    with uow_factory() as uow:
        uow.catalog.upsert(catalog)
        uow.commit()


def quote_etd(
    restaurant_id: str,
    basket: Sequence[BasketLine],
    *,
    restaurants: RestaurantCache | UnitOfWorkFactory,
    estimator: EtdEstimator,
    clock: Clock,
    customer_id: str | None = None,
) -> EtdQuote:
    """Price the basket from the menu and ask the estimator how long delivery takes. Writes nothing."""
    check_basket_shape(basket)
    restaurant = get_restaurant(restaurants, restaurant_id)
    priced = price_basket(restaurant, basket)
    placed_at = clock()
    query = EtdQuery(
        restaurant_id=restaurant.id,
        city_id=restaurant.city_id,
        country_code=restaurant.country_code,
        placed_at=placed_at,
        n_items=priced.n_items,
        subtotal=priced.subtotal,
        customer_id=customer_id,
    )
    try:
        estimate = estimator.estimate(query)
    except EstimatorUnavailable as exc:
        # the estimator is asked afresh on every quote, so service resumes as soon as it is back
        raise EtdUnavailable(f"ETD temporarily unavailable: {exc.message}") from exc
    return EtdQuote(
        restaurant_id=restaurant.id,
        etd_minutes=whole_minutes(estimate.minutes),
        subtotal=priced.subtotal,
        n_items=priced.n_items,
        quoted_at=placed_at,
    )
