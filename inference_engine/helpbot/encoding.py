"""One code path from token ids to answers, shared by training's evaluation and the serving runtime (numpy only).

Ids the model never saw in training are dropped before scoring: their embeddings are still random, so they
would only add noise, and a question made only of unseen ids is answered "don't know" without running the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine.errors import InvalidInstances
from inference_engine.helpbot.options import FEATURE, MAX_TOKENS
from strata_kernel.contracts.prediction import HelpPrediction

VOCABULARY_FILE = "vocabulary.json"
LABELS_FILE = "labels.json"
MODEL_FILE = "model.keras"


@dataclass(frozen=True)
class Vocabulary:
    """The vectoriser the model was trained with and the ids it saw (with counts)."""

    vectoriser: str
    buckets: int
    max_length: int
    counts: Mapping[int, int]

    def known_mask(self) -> np.ndarray:
        mask = np.zeros(self.buckets, dtype=bool)
        mask[np.fromiter(self.counts, dtype=np.int64, count=len(self.counts))] = True
        mask[0] = False  # padding is never a token
        return mask

    def to_json(self) -> str:
        counts = {str(token): count for token, count in sorted(self.counts.items())}
        return json.dumps(
            {"vectoriser": self.vectoriser, "buckets": self.buckets, "max_length": self.max_length, "counts": counts}
        )

    @classmethod
    def read(cls, directory: Path) -> Vocabulary:
        data = json.loads((directory / VOCABULARY_FILE).read_text())
        counts = {int(token): int(count) for token, count in data["counts"].items()}
        return cls(str(data["vectoriser"]), int(data["buckets"]), int(data["max_length"]), counts)


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str | None
    url: str | None
    answer: str | None


@dataclass(frozen=True)
class Labels:
    """The model's output classes in order: output unit ``i`` is ``articles[i]``."""

    articles: tuple[Article, ...]

    def index(self) -> dict[str, int]:
        return {article.article_id: position for position, article in enumerate(self.articles)}

    def to_json(self) -> str:
        return json.dumps(
            {
                "classes": [article.article_id for article in self.articles],
                "articles": {a.article_id: {"title": a.title, "url": a.url, "answer": a.answer} for a in self.articles},
            }
        )

    @classmethod
    def read(cls, directory: Path) -> Labels:
        data = json.loads((directory / LABELS_FILE).read_text())
        details: dict[str, dict[str, Any]] = data["articles"]
        return cls(
            tuple(
                Article(article_id, details[article_id]["title"], details[article_id]["url"],
                        details[article_id]["answer"])
                for article_id in data["classes"]
            )
        )  # fmt: skip


def checked_token_ids(instances: Sequence[Any], buckets: int) -> list[list[int]]:
    """Each instance's ``token_ids``: 1..MAX_TOKENS ints in [0, buckets); anything else is the caller's 400."""
    rows = []
    for position, instance in enumerate(instances):
        field = f"instances.{position}.{FEATURE}"
        if not isinstance(instance, dict):
            raise InvalidInstances(f"instances.{position} must be an object", field=f"instances.{position}")
        if FEATURE not in instance:
            raise InvalidInstances(f"{field} is required (a list of token ids)", field=field)
        ids = instance[FEATURE]
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_TOKENS:
            raise InvalidInstances(f"{field} must be a list of 1..{MAX_TOKENS} token ids", field=field)
        # bool is an int in Python, but true/false as a token id is a client bug
        if not all(type(token) is int and 0 <= token < buckets for token in ids):
            raise InvalidInstances(f"{field} must hold integers in [0, {buckets})", field=field)
        rows.append(ids)
    return rows


def encode(rows: Sequence[Sequence[int]], known: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded int32 ``(len(rows), max_length)`` of the known ids of each row, and which rows have any."""
    batch = np.zeros((len(rows), max_length), dtype=np.int32)
    for position, row in enumerate(rows):
        ids = np.asarray(row, dtype=np.int64)[:max_length]
        ids = ids[known[ids]]
        batch[position, : len(ids)] = ids
    return batch, batch[:, 0] != 0


@dataclass(frozen=True)
class Decisions:
    """Per question: the top article's index and confidence, and whether it clears the threshold."""

    top: np.ndarray  # int (questions,); -1 where no known token
    confidence: np.ndarray  # float (questions,); 0 where no known token
    known: np.ndarray  # bool (questions,)


def decide(probabilities: np.ndarray, scored: np.ndarray, threshold: float) -> Decisions:
    """``probabilities`` holds the model's rows for the ``scored`` questions only (the others had no known id)."""
    top = np.full(len(scored), -1, dtype=np.int64)
    confidence = np.zeros(len(scored), dtype=np.float64)
    if len(probabilities):
        top[scored] = probabilities.argmax(axis=1)
        confidence[scored] = probabilities.max(axis=1)
    return Decisions(top, confidence, scored & (confidence >= threshold))


def answers(decisions: Decisions, labels: Labels) -> list[dict[str, Any]]:
    """The contract's prediction per question; title/url/answer are null below the threshold."""
    result = []
    for top, confidence, known in zip(
        decisions.top.tolist(), decisions.confidence.tolist(), decisions.known.tolist(), strict=True
    ):
        # the best guess's id stays visible below the threshold (analysis, feedback); it is null only when
        # the question had no token the model knows
        best = labels.articles[top] if top >= 0 else None
        shown = best if known else None
        result.append(
            HelpPrediction(
                known=known,
                article_id=best.article_id if best else None,
                confidence=round(confidence, 6),
                title=shown.title if shown else None,
                url=shown.url if shown else None,
                answer=shown.answer if shown else None,
            ).to_wire()
        )
    return result
