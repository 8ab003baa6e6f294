"""Deterministic simulator of a food-delivery marketplace: world, orders and their ETD events.

Same size, seed and start date -> the same catalog and byte-identical events. The ETD generative model is
documented in ``etd_model.py`` and ``data_collection/ETD_MODEL.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from data_collection.simulator.orders import Orders, generate_orders
from data_collection.simulator.sizes import SIZES, WorldSize, size_named
from data_collection.simulator.world import World, generate_world

DEFAULT_START = date(2025, 1, 6)  # a Monday


@dataclass(frozen=True)
class Simulation:
    size: WorldSize
    seed: int
    world: World
    orders: Orders


def simulate(size: WorldSize, seed: int, start: date = DEFAULT_START) -> Simulation:
    rng = np.random.default_rng(seed)
    world = generate_world(rng, size)
    orders = generate_orders(rng, world, size.orders, size.days, start)
    return Simulation(size=size, seed=seed, world=world, orders=orders)


__all__ = ["DEFAULT_START", "SIZES", "Simulation", "WorldSize", "simulate", "size_named"]
