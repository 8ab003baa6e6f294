"""Use cases of business_logic over its ports. Nothing here knows Flask, SQL or HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence

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


def get_restaurant(uow_factory: UnitOfWorkFactory, restaurant_id: str) -> Restaurant:
    with uow_factory() as uow:
        restaurant = uow.catalog.get(restaurant_id)
    if restaurant is None:
        raise RestaurantNotFound(restaurant_id)
    return restaurant


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
    uow_factory: UnitOfWorkFactory,
    estimator: EtdEstimator,
    clock: Clock,
    customer_id: str | None = None,
) -> EtdQuote:
    """Price the basket from the menu and ask the estimator how long delivery takes. Writes nothing."""
    check_basket_shape(basket)
    restaurant = get_restaurant(uow_factory, restaurant_id)
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
