"""Deterministic, realistic data of the two use cases, written as the CSV files a team would land.

* Bike share (Chicago wall-clock times, no offsets): 40 stations in two regions of four districts each; an hourly
  status feed per station (bikes available follow the commute: residential districts empty in the morning and
  fill in the evening, downtown the reverse); ~14k trips whose duration depends on the region and district, the
  rider (casual riders ride longer), the bike (electric is faster), the rush hour and how scarce bikes were.
* Card payments (UTC times with offsets): 400 cards, ~10k payments; fraud is rare (~4%) and likelier online, in
  risky merchant categories, for amounts far above the card's usual, and on cards used in bursts.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

DAYS = 28
START = datetime(2025, 3, 3)  # a Monday; the US moves its clocks on 9 March: local times cross a DST change
REGIONS = {"north": ("n1", "n2", "n3", "n4"), "south": ("s1", "s2", "s3", "s4")}
DISTRICT_MINUTES = {"n1": 2.0, "n2": 0.0, "n3": -1.0, "n4": 3.5, "s1": -2.0, "s2": 1.0, "s3": 4.0, "s4": -0.5}
CATEGORIES = ("groceries", "restaurants", "fuel", "electronics", "gift_cards", "travel")
RISKY = {"electronics", "gift_cards"}


@dataclass(frozen=True)
class Station:
    station_id: str
    region: str
    district: str
    kind: str
    capacity: int


def stations() -> list[Station]:
    found: list[Station] = []
    for region, districts in REGIONS.items():
        for district in districts:
            for n in range(5):
                index = len(found)
                kind = "hub" if n == 0 else "dock"
                found.append(Station(f"st-{index:03d}", region, district, kind, 30 if kind == "hub" else 15))
    return found


def _skip_gap(local: datetime) -> datetime:
    """Local clocks never show 02:00-02:59 on 9 March 2025 in Chicago: a real feed has no such time."""
    return local + timedelta(hours=1) if local.date() == datetime(2025, 3, 9).date() and local.hour == 2 else local


def write_station_status(path: Path, seed: int = 11) -> int:
    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["station_id", "observed_at", "bikes_available", "docks_free", "kind", "region", "district"])
        for station in stations():
            residential = station.region == "north"
            for hour in range(DAYS * 24):
                local = START + timedelta(hours=hour, minutes=int(rng.integers(0, 10)))
                if local.date() == datetime(2025, 3, 9).date() and local.hour == 2:
                    continue  # that hour does not exist on Chicago's clocks
                phase = math.sin((local.hour - 8) / 24 * 2 * math.pi) * (-1 if residential else 1)
                share = min(max(0.5 + 0.4 * phase + rng.normal(0, 0.12), 0.0), 1.0)
                bikes = round(share * station.capacity)
                out.writerow([station.station_id, local.isoformat(sep=" "), bikes, station.capacity - bikes,
                              station.kind, station.region, station.district])  # fmt: skip
                rows += 1
    return rows


def trip_minutes_of(station: Station, local: datetime, bike: str, rider: str, bikes: int, noise: float) -> float:
    rush = 1 if local.weekday() < 5 and local.hour in (7, 8, 16, 17, 18) else 0
    minutes = 11.0 + (3.0 if station.region == "north" else 0.0) + DISTRICT_MINUTES[station.district]
    minutes += 7.0 if rider == "casual" else 0.0
    minutes += -3.0 if bike == "electric" else 0.0
    minutes += 3.0 * rush + (4.0 if bikes <= 2 else 0.0) + (-1.5 if station.kind == "hub" else 0.0)
    return round(max(2.0, minutes * math.exp(noise)), 2)


def write_trips(path: Path, status: dict[tuple[str, datetime], int], trips: int = 14_000, seed: int = 12) -> int:
    """``status``: (station, local hour) -> bikes available then (the generative model reads the feed too)."""
    rng = np.random.default_rng(seed)
    all_stations = stations()
    weights = np.array([3.0 if s.kind == "hub" else 1.0 for s in all_stations])
    hour_weight = np.array([0.2, 0.1, 0.05, 0.05, 0.1, 0.4, 1.2, 2.5, 2.8, 1.3, 1.0, 1.1,
                            1.4, 1.3, 1.1, 1.3, 2.2, 2.9, 2.6, 1.6, 1.1, 0.8, 0.5, 0.3])  # fmt: skip
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["trip_id", "station_id", "started_at", "bike_type", "rider", "region", "district",
                      "duration_minutes"])  # fmt: skip
        for index in range(trips):
            station = all_stations[rng.choice(len(all_stations), p=weights / weights.sum())]
            day = int(rng.integers(0, DAYS))
            hour = int(rng.choice(24, p=hour_weight / hour_weight.sum()))
            local = _skip_gap(START + timedelta(days=day, hours=hour, minutes=int(rng.integers(10, 60))))
            bike = "electric" if rng.random() < 0.35 else "classic"
            rider = "member" if rng.random() < 0.7 else "casual"
            bikes = status.get((station.station_id, local.replace(minute=0, second=0)), 7)
            minutes = trip_minutes_of(station, local, bike, rider, bikes, float(rng.normal(0, 0.12)))
            out.writerow([f"trip-{index:06d}", station.station_id, local.isoformat(sep=" "), bike, rider,
                          station.region, station.district, minutes])  # fmt: skip
    return trips


def read_status(path: Path) -> dict[tuple[str, datetime], int]:
    with path.open() as file:
        return {(row["station_id"], datetime.fromisoformat(row["observed_at"]).replace(minute=0)): int(
            row["bikes_available"]) for row in csv.DictReader(file)}  # fmt: skip


def write_payments(path: Path, payments: int = 10_000, cards: int = 400, seed: int = 13) -> int:
    rng = np.random.default_rng(seed)
    usual = rng.lognormal(3.3, 0.5, cards)  # each card's usual amount (~27)
    compromised = {int(c): int(rng.integers(0, DAYS)) for c in rng.choice(cards, 24, replace=False)}
    rows: list[tuple[datetime, list[object]]] = []
    for index in range(payments):
        card = int(rng.integers(0, cards))
        day = int(rng.integers(0, DAYS))
        burst = compromised.get(card) in (day, day - 1)
        when = START + timedelta(days=day, seconds=int(rng.integers(6 * 3600, 23 * 3600)))
        category = str(rng.choice(CATEGORIES, p=[0.3, 0.25, 0.15, 0.1, 0.05, 0.15]))
        channel = "online" if rng.random() < 0.4 else "pos"
        amount = round(float(usual[card] * rng.lognormal(0, 0.6) * (4 if burst and rng.random() < 0.6 else 1)), 2)
        score = (-4.6 + 1.6 * (channel == "online") + 1.3 * (category in RISKY)
                 + 1.1 * math.log(amount / usual[card]) + 2.2 * burst)  # fmt: skip
        fraud = rng.random() < 1 / (1 + math.exp(-score))
        rows.append((when, [f"pay-{index:06d}", f"card-{card:04d}", when.isoformat() + "Z", amount, category,
                            channel, str(fraud).lower()]))  # fmt: skip
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["payment_id", "card_id", "paid_at", "amount", "merchant_category", "channel", "is_fraud"])
        for _, row in sorted(rows, key=lambda item: item[0]):
            out.writerow(row)
    return payments
