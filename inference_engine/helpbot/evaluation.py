"""Validation split, threshold choice and held-out metrics of the chatbot model (numpy only, no TensorFlow).

The threshold is chosen on the *training* tables only: validation slices of the listed questions (in scope) and
the listed questions of articles left out of an auxiliary model (pseudo out of scope). The held-out questions
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


def left_out_folds(articles: list[str], share: float, rounds: int, seed: int) -> list[list[str]]:
    """Per calibration round, the articles the pseudo out-of-scope model never sees: ``share`` of them, taken from
    one seeded permutation so the rounds leave out disjoint folds (wrapping around when they run out).

    A question about an article the model never saw is exactly an out-of-scope question, and unlike the held-out
    table's off-topic questions these come from the training tables, so the threshold may be chosen on them.
    """
    if not articles or rounds <= 0:
        return []
    ordered = sorted(articles)
    permuted = [ordered[i] for i in np.random.default_rng(seed).permutation(len(ordered))]
    size = min(max(1, round(share * len(ordered))), len(ordered))
    return [sorted(permuted[(r * size + i) % len(ordered)] for i in range(size)) for r in range(rounds)]


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    #: accuracy among the in-scope validation questions answered at ``threshold``
    answered_accuracy: float
    coverage: float
    #: share of the pseudo out-of-scope questions refused at ``threshold`` (1 when there are none)
    out_of_scope_rejection: float
    #: False when no threshold reaches both targets: the best trade-off is used instead (see choose_threshold)
    target_met: bool


def choose_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    target: float,
    out_of_scope: np.ndarray | None = None,
    target_rejection: float = 0.0,
) -> ThresholdChoice:
    """The lowest confidence threshold at which the accuracy among answered in-scope validation questions is
    >= ``target`` and the share of ``out_of_scope`` confidences refused (below it) is >= ``target_rejection``.

    Candidates are the in-scope confidences (a question is answered when its confidence is >= the threshold), so
    each candidate answers a different set of in-scope questions. When none meets both targets, the candidate whose
    worse target is missed by the smallest relative margin wins, i.e. the one maximising
    ``min(accuracy / target, rejection / target_rejection)`` (the lowest threshold among ties, as it answers more):
    without out-of-scope questions that is simply the most accurate threshold.
    """
    if len(confidence) == 0:
        raise ValueError("choosing a threshold needs validation questions")
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence, sorted_correct = confidence[order], correct[order].astype(np.float64)
    # answering every question with confidence >= sorted_confidence[k] answers the first k+1 of them
    answered = np.arange(1, len(order) + 1)
    accuracy = np.cumsum(sorted_correct) / answered
    refused = np.sort(np.asarray(out_of_scope if out_of_scope is not None else [], dtype=np.float64))
    if len(refused):
        rejection = np.searchsorted(refused, sorted_confidence, side="left") / len(refused)
    else:
        rejection = np.ones(len(order))
    # only cut between distinct confidences: ties are answered together
    last_of_tie = np.r_[sorted_confidence[1:] != sorted_confidence[:-1], True]
    meets = np.flatnonzero(last_of_tie & (accuracy >= target) & (rejection >= target_rejection))
    if len(meets):
        cut, met = int(meets[-1]), True
    else:
        cuts = np.flatnonzero(last_of_tie)
        trade_off = np.minimum(accuracy[cuts] / target if target > 0 else 1.0,
                               rejection[cuts] / target_rejection if target_rejection > 0 else 1.0)  # fmt: skip
        # the last of the best: cuts run from the highest threshold down, so that is the lowest threshold
        cut, met = int(cuts[len(cuts) - 1 - int(np.argmax(trade_off[::-1]))]), False
    return ThresholdChoice(
        threshold=float(sorted_confidence[cut]),
        answered_accuracy=float(accuracy[cut]),
        coverage=float(answered[cut] / len(order)),
        out_of_scope_rejection=float(rejection[cut]),
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
