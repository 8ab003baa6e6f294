"""The ports of data_processing, in domain terms. Adapters live in ``adapters/``."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from data_processing.domain.help import HelpAnswer
from data_processing.domain.online import FeatureValue, OnlineRow, OnlineVersion, Prediction


class OnlineStore(abc.ABC):
    """Low-latency key-value store of the newest feature row per entity, loaded in versioned bulk loads."""

    @abc.abstractmethod
    def load_version(self, group: str, rows: Iterable[OnlineRow]) -> int:
        """Write ``rows`` as a new version of ``group`` and make it current atomically; return its number.

        Readers see the previous version or the new one, never a mix. If the load fails, the previous
        version keeps serving. Versions older than the previous one are garbage-collected.
        """

    def put_rows(self, group: str, rows: Iterable[OnlineRow]) -> None:
        """Upsert ``rows`` into the current version of a *streaming* group (creating version 1 if none).

        Each row replaces the entity's previous row; the version's ``newest_feature_time`` becomes the
        newest of the old one and the rows'. Used by the near-real-time worker (data_processing.streaming),
        which writes only the entities a batch of events changed. All rows of a call become visible together
        where the backend allows (SQLite: one transaction; Redis: one MULTI/EXEC pipeline). Re-applying the
        same rows is harmless (the worker is at-least-once). Adapters without it cannot serve streaming groups.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot serve streaming feature groups (no put_rows)")

    @abc.abstractmethod
    def get(self, group: str, entity_id: str) -> dict[str, Any] | None:
        """The current row of ``entity_id`` (feature values + ``feature_time``), or None if it has none."""

    @abc.abstractmethod
    def get_many(self, groups: Sequence[str], entity_id: str) -> dict[str, dict[str, Any] | None]:
        """``get`` for several groups of the same entity (one round trip where the backend allows)."""

    def get_many_entities(
        self, groups: Sequence[str], entity_ids: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any] | None]]:
        """``get_many`` for a batch: ``{entity_id: {group: row or None}}``. Backends override it with one query
        or one round trip; this fallback costs one ``get_many`` per entity."""
        return {entity_id: self.get_many(groups, entity_id) for entity_id in entity_ids}

    @abc.abstractmethod
    def current_version(self, group: str) -> OnlineVersion | None:
        """The serving version of ``group``, or None if nothing was ever loaded."""

    def close(self) -> None:
        """Release connections."""


class InferenceEngine(abc.ABC):
    """The model runtime that turns feature vectors into predictions."""

    @abc.abstractmethod
    def predict(
        self, model: str, instances: Sequence[Mapping[str, FeatureValue]], routing_key: str | None = None
    ) -> list[Prediction]:
        """One prediction per instance from the version the model's routing picks for ``routing_key`` (the
        same key gets the same version; None = the runtime picks per request).

        Raises InferenceEngineUnavailable when no prediction can be had right now.
        """

    def close(self) -> None:
        """Release connections."""


class HelpEngine(abc.ABC):
    """The chatbot model in the model runtime: token ids of one question -> the article that answers it."""

    @abc.abstractmethod
    def answer(self, model: str, token_ids: Sequence[int]) -> HelpAnswer:
        """The serving version's answer for one question vectorised by ``data_processing.text``.

        Raises InferenceEngineUnavailable when no answer can be had right now (engine down, no such model, or
        a model trained on another vectoriser).
        """

    def close(self) -> None:
        """Release connections."""
