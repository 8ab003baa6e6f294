"""Validation split, threshold choice and held-out metrics of the chatbot model (numpy only, no TensorFlow).

The threshold is chosen on a validation slice of the *training* examples; the held-out questions
(processed.help_heldout) are only ever scored, never used for any choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference_engine.helpbot.encoding import Decisions


def split_validation(articles: np.ndarray, sources: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of validation rows: about ``fraction`` of each article's questions, chosen at random (seeded).

    Only listed questions are held out (never titles, answer or body sentences): they read like what users ask,
    so the threshold is chosen on the kind of text it will meet. An article's title and at least one of its
    examples always stay in training, so every article can be learnt.
    """
    rng = np.random.default_rng(seed)
    validation = np.zeros(len(articles), dtype=bool)
    for article in np.unique(articles):
        rows = np.flatnonzero(articles == article)
        candidates = rows[sources[rows] == "question"]
        take = min(int(len(candidates) * fraction), len(rows) - 1, len(candidates))
        if take > 0:
            validation[rng.choice(candidates, size=take, replace=False)] = True
    return validation


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    #: accuracy among the validation questions answered at ``threshold``
    answered_accuracy: float
    coverage: float
    #: False when no threshold reaches the target: the most accurate one is used instead
    target_met: bool


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> ThresholdChoice:
    """The lowest confidence threshold whose accuracy among answered validation questions is >= ``target``."""
    if len(confidence) == 0:
        raise ValueError("choosing a threshold needs validation questions")
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence, sorted_correct = confidence[order], correct[order].astype(np.float64)
    # answering every question with confidence >= sorted_confidence[k] answers the first k+1 of them
    answered = np.arange(1, len(order) + 1)
    accuracy = np.cumsum(sorted_correct) / answered
    # only cut between distinct confidences: ties are answered together
    last_of_tie = np.r_[sorted_confidence[1:] != sorted_confidence[:-1], True]
    meets = np.flatnonzero(last_of_tie & (accuracy >= target))
    if len(meets):
        cut, met = int(meets[-1]), True
    else:
        cut, met = int(np.flatnonzero(last_of_tie)[np.argmax(accuracy[last_of_tie])]), False
    return ThresholdChoice(
        threshold=float(sorted_confidence[cut]),
        answered_accuracy=float(accuracy[cut]),
        coverage=float(answered[cut] / len(order)),
        target_met=met,
    )


@dataclass(frozen=True)
class HeldoutMetrics:
    accuracy: float  # top-1 on in-scope questions, whatever the confidence
    coverage: float  # share of in-scope questions answered (confidence >= threshold)
    answered_accuracy: float  # accuracy among the answered in-scope questions (0 when none answered)
    out_of_scope_rejection: float  # share of out-of-scope questions answered "don't know" (1 when there are none)
    in_scope: int
    out_of_scope: int

    def as_dict(self) -> dict[str, float]:
        return {
            "heldout_accuracy": self.accuracy,
            "coverage": self.coverage,
            "answered_accuracy": self.answered_accuracy,
            "out_of_scope_rejection": self.out_of_scope_rejection,
        }


def heldout_metrics(decisions: Decisions, expected: np.ndarray) -> HeldoutMetrics:
    """``expected``: the right output index per question, -1 for an article the model does not know, -2 for an
    out-of-scope question (article_id null)."""
    in_scope = expected != -2
    correct = (decisions.top == expected) & (expected >= 0)
    answered = decisions.known & in_scope
    n_in, n_out = int(in_scope.sum()), int((~in_scope).sum())
    return HeldoutMetrics(
        accuracy=_share(correct.sum(), n_in),
        coverage=_share(answered.sum(), n_in),
        answered_accuracy=_share((correct & answered).sum(), int(answered.sum())),
        out_of_scope_rejection=_share((~decisions.known & ~in_scope).sum(), n_out, empty=1.0),
        in_scope=n_in,
        out_of_scope=n_out,
    )


def _share(part: int | np.integer, whole: int, empty: float = 0.0) -> float:
    return float(part) / whole if whole else empty
