"""Errors of business_logic; each subclasses the kernel hierarchy and so knows its HTTP status."""

from __future__ import annotations

from strata_kernel.errors import BadRequest, NotFound, Unavailable


class InvalidBasket(BadRequest):
    code = "invalid_basket"


class InvalidCatalog(BadRequest):
    """A catalog file that cannot be loaded as a whole; ``field`` names the first problem."""

    code = "invalid_catalog"


class RestaurantNotFound(NotFound):
    code = "restaurant_not_found"

    def __init__(self, restaurant_id: str) -> None:
        super().__init__(f"restaurant {restaurant_id!r} not found", field="restaurant_id")


class EstimatorUnavailable(Unavailable):
    """The ETD estimator cannot answer now; ``message`` is a short human reason ("inference engine unavailable")."""

    code = "estimator_unavailable"


class EtdUnavailable(Unavailable):
    code = "etd_unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
