"""Named world sizes: ``tiny`` for tests, ``small`` for the demo, ``full`` for load and model quality."""

from __future__ import annotations

from dataclasses import dataclass

from data_collection.errors import UnknownSize


@dataclass(frozen=True)
class WorldSize:
    name: str
    countries: int
    cities: int
    restaurants: int
    orders: int
    days: int


SIZES: dict[str, WorldSize] = {
    "tiny": WorldSize("tiny", countries=3, cities=6, restaurants=30, orders=3_000, days=21),
    "small": WorldSize("small", countries=8, cities=40, restaurants=400, orders=60_000, days=30),
    "full": WorldSize("full", countries=60, cities=400, restaurants=4_000, orders=1_050_000, days=30),
}


def size_named(name: str) -> WorldSize:
    try:
        return SIZES[name]
    except KeyError:
        raise UnknownSize(f"unknown size {name!r}; expected one of {', '.join(SIZES)}", field="size") from None
