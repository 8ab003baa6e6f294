"""The order an ETD estimate is asked for: the published ``EstimateRequest`` (strata_kernel.contracts.etd), whose
parse validates field by field (errors name the field)."""

from __future__ import annotations

from typing import Any

from strata_kernel.contracts.etd import EstimateRequest as OrderContext

__all__ = ["OrderContext", "parse_order"]


def parse_order(body: Any) -> OrderContext:
    """Validate a JSON body of ``POST /v1/etd/estimate``; raises InvalidOrder naming the first bad field."""
    return OrderContext.from_wire(body)
