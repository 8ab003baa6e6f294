"""quote_etd with fakes at its ports: validation, pricing, estimator failures, and no writes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from business_logic import services
from business_logic.domain.restaurants import BasketLine, EtdQuote
from business_logic.errors import EtdUnavailable, InvalidBasket, RestaurantNotFound


@pytest.fixture
def quote(fake_uow_factory: Any, estimator: Any, fixed_now: datetime) -> Any:
    def _quote(basket: list[BasketLine], restaurant_id: str = "r-000001") -> EtdQuote:
        return services.quote_etd(
            restaurant_id, basket, restaurants=fake_uow_factory, estimator=estimator, clock=lambda: fixed_now
        )

    return _quote


def test_quote_prices_basket_from_menu_and_rounds_minutes_up(quote: Any, estimator: Any, fixed_now: datetime) -> None:
    estimator.minutes = 33.2
    basket = [BasketLine("i-000001-01", 2), BasketLine("i-000001-02", 3), BasketLine("i-000001-02", 1)]

    result = quote(basket)

    assert result.etd_minutes == 34
    assert result.n_items == 6
    assert result.subtotal == Decimal("25.00")  # 2 x 12.10 + 4 x 0.20, exact
    assert result.quoted_at == fixed_now
    sent = estimator.queries[0]
    assert (sent.restaurant_id, sent.city_id, sent.country_code) == ("r-000001", "c-0001", "PT")
    assert (sent.n_items, sent.subtotal, sent.placed_at) == (6, Decimal("25.00"), fixed_now)


@pytest.mark.parametrize(("minutes", "shown"), [(34.0, 34), (34.01, 35), (0.2, 1)])
def test_minutes_are_whole_and_never_early(quote: Any, estimator: Any, minutes: float, shown: int) -> None:
    estimator.minutes = minutes
    assert quote([BasketLine("i-000002-01", 1)], "r-000002").etd_minutes == shown


def test_unknown_restaurant_is_not_found(quote: Any) -> None:
    with pytest.raises(RestaurantNotFound) as caught:
        quote([BasketLine("i-000001-01", 1)], restaurant_id="r-999999")
    assert caught.value.status == 404


def test_item_of_another_restaurant_names_its_basket_line(quote: Any) -> None:
    with pytest.raises(InvalidBasket) as caught:
        quote([BasketLine("i-000001-01", 1), BasketLine("i-000003-01", 1)])
    assert (caught.value.status, caught.value.field) == (400, "basket.1.item_id")


@pytest.mark.parametrize(
    ("basket", "field"),
    [
        ([], "basket"),
        ([BasketLine("i-000001-01", 1)] * 51, "basket"),
        ([BasketLine("i-000001-01", 1), BasketLine("i-000001-02", 0)], "basket.1.quantity"),
        ([BasketLine("i-000001-01", 100)], "basket.0.quantity"),
    ],
)
def test_invalid_basket_names_the_field(quote: Any, estimator: Any, basket: list[BasketLine], field: str) -> None:
    with pytest.raises(InvalidBasket) as caught:
        quote(basket)
    assert (caught.value.status, caught.value.field) == (400, field)
    assert estimator.queries == []


def test_fifty_lines_of_quantity_99_are_accepted(quote: Any) -> None:
    result = quote([BasketLine("i-000001-02", 99)] * 50)
    assert (result.n_items, result.subtotal) == (4950, Decimal("990.00"))


def test_estimator_down_is_503_with_one_line_reason_then_recovers(quote: Any, estimator: Any) -> None:
    estimator.minutes = 20
    estimator.down_reason = "inference engine unavailable"
    with pytest.raises(EtdUnavailable) as caught:
        quote([BasketLine("i-000001-01", 1)])
    assert caught.value.status == 503
    assert caught.value.message == "ETD temporarily unavailable: inference engine unavailable"

    estimator.down_reason = None
    assert quote([BasketLine("i-000001-01", 1)]).etd_minutes == 20


def test_a_quote_commits_nothing(quote: Any, fake_uow_factory: Any) -> None:
    quote([BasketLine("i-000001-01", 1)])
    assert fake_uow_factory.units
    assert all(unit.commits == 0 and unit.rollbacks >= 1 for unit in fake_uow_factory.units)


def test_load_catalog_commits_once(fake_uow_factory: Any, catalog_data: dict[str, Any]) -> None:
    from business_logic.adapters.catalog_file import parse_catalog

    services.load_catalog(fake_uow_factory, parse_catalog(catalog_data))
    assert [unit.commits for unit in fake_uow_factory.units] == [1]
