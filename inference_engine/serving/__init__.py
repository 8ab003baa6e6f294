"""Serving models, in three parts: the version loader (fetch, load, warm), the routing table (which loaded versions
serve each model now: the alias's, or a routing record's) and the predict flow (route, score, pins, shadow, log).

What serves a model is an immutable Deployment the table *replaces*, never mutates: a request reads the reference
once and keeps using those runtimes, so a reload or a new routing swaps atomically while in-flight requests finish
on the old ones.
"""

from __future__ import annotations

from inference_engine.serving.loader import VersionLoader
from inference_engine.serving.observer import ServingObserver
from inference_engine.serving.predictor import Predictor
from inference_engine.serving.routing_table import RoutingTable

__all__ = ["Predictor", "RoutingTable", "ServingObserver", "VersionLoader"]
