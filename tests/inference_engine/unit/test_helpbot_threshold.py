"""The chatbot's threshold rule with pseudo out-of-scope questions, and the folds of articles left out to make
them (numpy only, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

from inference_engine.helpbot.evaluation import choose_threshold, left_out_folds

# in-scope validation: confidences from high to low, and whether the top article was right
CONFIDENCE = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
CORRECT = np.array([True, True, True, True, False, True, False])


def test_the_rejection_target_raises_the_threshold_above_the_accuracy_only_choice() -> None:
    # accuracy alone: 0.5 (5 of 6 answered right); but two of the four off-topic questions score >= 0.5
    out_of_scope = np.array([0.75, 0.55, 0.3, 0.2])

    alone = choose_threshold(CONFIDENCE, CORRECT, target=0.8)
    both = choose_threshold(CONFIDENCE, CORRECT, target=0.8, out_of_scope=out_of_scope, target_rejection=0.75)

    assert alone.threshold == 0.5
    assert alone.out_of_scope_rejection == 1.0  # no off-topic questions given: nothing to refuse
    # 0.6 refuses only 0.55, 0.3, 0.2 (3 of 4) and answers 0.95..0.6: 4 of 5 right
    assert both.threshold == 0.6
    assert both.out_of_scope_rejection == pytest.approx(3 / 4)
    assert both.answered_accuracy == pytest.approx(4 / 5)
    assert both.coverage == pytest.approx(5 / 7)
    assert both.target_met


def test_the_lowest_threshold_meeting_both_targets_wins() -> None:
    out_of_scope = np.array([0.1, 0.2, 0.3])  # all below every in-scope confidence

    choice = choose_threshold(CONFIDENCE, CORRECT, target=0.8, out_of_scope=out_of_scope, target_rejection=1.0)

    assert choice.threshold == 0.5  # the accuracy target binds, the rejection one is met everywhere
    assert choice.out_of_scope_rejection == 1.0
    assert choice.target_met


def test_an_off_topic_confidence_equal_to_the_threshold_is_answered_not_refused() -> None:
    # the runtime answers when confidence >= threshold, so 0.9 is refused only by a threshold above it
    choice = choose_threshold(CONFIDENCE, CORRECT, target=0.5, out_of_scope=np.array([0.9]), target_rejection=1.0)

    assert choice.threshold == 0.95
    assert choice.out_of_scope_rejection == 1.0
    assert choice.coverage == pytest.approx(1 / 7)


def test_when_no_threshold_meets_both_the_smallest_relative_shortfall_wins_and_is_flagged() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([False, True, True, True])
    out_of_scope = np.array([0.95, 0.85, 0.65, 0.1])
    # per threshold 0.9, 0.8, 0.7, 0.6: accuracy 0, 1/2, 2/3, 3/4 and rejection 3/4, 2/4, 2/4, 1/4
    # min(accuracy / 0.9, rejection / 0.8): 0, 0.56, 0.63, 0.31 -> 0.7

    choice = choose_threshold(confidence, correct, target=0.9, out_of_scope=out_of_scope, target_rejection=0.8)

    assert not choice.target_met
    assert choice.threshold == 0.7
    assert choice.answered_accuracy == pytest.approx(2 / 3)
    assert choice.out_of_scope_rejection == pytest.approx(2 / 4)
    assert choice.coverage == pytest.approx(3 / 4)


def test_among_equally_short_trade_offs_the_lower_threshold_answers_more() -> None:
    # accuracy is 1/2 at 0.8 and at 0.6; rejection is met everywhere: both fall equally short of 0.9
    choice = choose_threshold(np.array([0.9, 0.8, 0.7, 0.6]), np.array([False, True, False, True]), target=0.9,
                              out_of_scope=np.array([0.05]), target_rejection=0.5)  # fmt: skip

    assert not choice.target_met
    assert choice.threshold == 0.6
    assert choice.coverage == 1.0


def test_the_choice_needs_in_scope_validation_questions() -> None:
    with pytest.raises(ValueError, match="needs validation questions"):
        choose_threshold(np.zeros(0), np.zeros(0, dtype=bool), target=0.8, out_of_scope=np.array([0.5]))


def test_left_out_folds_are_seeded_disjoint_shares_of_the_articles() -> None:
    articles = [f"article-{i:02d}" for i in range(10)]

    folds = left_out_folds(articles, share=0.2, rounds=3, seed=7)

    assert [len(fold) for fold in folds] == [2, 2, 2]
    assert len({a for fold in folds for a in fold}) == 6  # disjoint: 6 different articles play out-of-scope
    assert all(set(fold) <= set(articles) for fold in folds)
    assert left_out_folds(list(reversed(articles)), share=0.2, rounds=3, seed=7) == folds  # order-independent
    assert left_out_folds(articles, share=0.2, rounds=3, seed=8) != folds


def test_left_out_folds_wrap_around_when_the_rounds_outnumber_the_folds_and_leave_at_least_one() -> None:
    folds = left_out_folds(["a", "b", "c"], share=0.1, rounds=4, seed=1)

    assert [len(fold) for fold in folds] == [1, 1, 1, 1]
    assert {fold[0] for fold in folds[:3]} == {"a", "b", "c"}
    assert folds[3] == folds[0]
    assert left_out_folds([], share=0.2, rounds=3, seed=1) == []
