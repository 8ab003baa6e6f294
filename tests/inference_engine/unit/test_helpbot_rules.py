"""The chatbot's rules without TensorFlow: threshold choice, validation split, held-out metrics, input checks,
the vectoriser guard and the encoding shared by training and serving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference_engine.domain.models import ModelVersion
from inference_engine.errors import InvalidInstances
from inference_engine.helpbot.encoding import Article, Labels, Vocabulary, answers, checked_token_ids, decide, encode
from inference_engine.helpbot.evaluation import choose_threshold, heldout_metrics, split_validation
from inference_engine.helpbot.vectoriser import VectoriserMismatch, check_vectoriser


def test_the_threshold_is_the_lowest_confidence_whose_answered_accuracy_reaches_the_target() -> None:
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    correct = np.array([True, True, True, True, False, True, False])

    choice = choose_threshold(confidence, correct, target=0.8)

    # answering >= 0.5 gets 5 of 6 right (0.83); answering >= 0.4 would get 5 of 7 (0.71)
    assert choice.threshold == 0.5
    assert choice.answered_accuracy == pytest.approx(5 / 6)
    assert choice.coverage == pytest.approx(6 / 7)
    assert choice.target_met


def test_tied_confidences_are_answered_together() -> None:
    choice = choose_threshold(np.array([0.9, 0.7, 0.7]), np.array([True, True, False]), target=0.9)

    assert choice.threshold == 0.9  # 0.7 would answer both tied questions: 2 of 3 right
    assert choice.coverage == pytest.approx(1 / 3)


def test_an_unreachable_target_falls_back_to_the_most_accurate_threshold() -> None:
    choice = choose_threshold(np.array([0.9, 0.8, 0.7]), np.array([False, True, False]), target=0.99)

    assert not choice.target_met
    assert choice.threshold == 0.8
    assert choice.answered_accuracy == pytest.approx(0.5)


def test_validation_holds_out_only_questions_and_keeps_every_title_and_one_example_in_training() -> None:
    articles = np.array(["a"] * 9 + ["b"] * 3 + ["c"] + ["d"] * 2)
    sources = np.array(["title"] + ["question"] * 4 + ["answer"] + ["body"] * 3
                       + ["title", "question", "question", "title", "title", "body"])  # fmt: skip

    held = split_validation(articles, sources, fraction=0.5, seed=3)

    assert held.sum() == 2 + 1  # half of a's four questions, half of b's two, none of c's title or d's body
    assert (sources[held] == "question").all()  # answer/body sentences do not read like users' questions
    assert all((~held[articles == article]).any() for article in "abcd")
    assert (split_validation(articles, sources, fraction=0.5, seed=3) == held).all()


def test_heldout_metrics_separate_in_scope_answers_from_out_of_scope_refusals() -> None:
    # questions: 3 in scope (expected 0, 1, 1), 1 about an article the model lacks (-1), 2 out of scope (-2)
    decisions = decide(
        probabilities=np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45]]),
        scored=np.array([True, True, True, True, True, False]),
        threshold=0.65,
    )
    metrics = heldout_metrics(decisions, np.array([0, 1, 1, -1, -2, -2]))

    assert metrics.accuracy == pytest.approx(2 / 4)  # right: questions 0 and 2
    assert metrics.coverage == pytest.approx(3 / 4)  # answered: 0, 1, 2
    assert metrics.answered_accuracy == pytest.approx(2 / 3)
    assert metrics.out_of_scope_rejection == 1.0  # one below the threshold, one with no known token
    assert (metrics.in_scope, metrics.out_of_scope) == (4, 2)


def test_encoding_drops_ids_never_seen_in_training_and_marks_questions_left_empty() -> None:
    vocabulary = Vocabulary("v", buckets=100, max_length=4, counts={5: 2, 7: 1})

    batch, scored = encode([[5, 9, 7], [9, 11], [7, 7, 7, 7, 7, 5]], vocabulary.known_mask(), vocabulary.max_length)

    assert batch.tolist() == [[5, 7, 0, 0], [0, 0, 0, 0], [7, 7, 7, 7]]
    assert scored.tolist() == [True, False, True]


def test_vocabulary_and_labels_round_trip_through_their_json_files(tmp_path: Path) -> None:
    directory = tmp_path
    vocabulary = Vocabulary("hash-ngram-v1:32768", 32768, 256, {3: 4, 12: 1})
    labels = Labels(
        (Article("refunds", "Refunds", "http://h/refunds", "Within 5 days."), Article("x", None, None, None))
    )
    (directory / "vocabulary.json").write_text(vocabulary.to_json())
    (directory / "labels.json").write_text(labels.to_json())

    assert Vocabulary.read(directory) == vocabulary
    assert Labels.read(directory) == labels


def test_answers_below_the_threshold_carry_no_article_details() -> None:
    labels = Labels((Article("a", "A", "http://h/a", "Do A."), Article("b", "B", "http://h/b", "Do B.")))
    decisions = decide(np.array([[0.2, 0.8], [0.55, 0.45]]), np.array([True, True, False]), threshold=0.6)

    first, second, third = answers(decisions, labels)

    assert first == {"known": True, "article_id": "b", "confidence": 0.8, "title": "B", "url": "http://h/b",
                     "answer": "Do B."}  # fmt: skip
    assert second == {"known": False, "article_id": "a", "confidence": 0.55, "title": None, "url": None,
                      "answer": None}  # fmt: skip
    assert third == {"known": False, "article_id": None, "confidence": 0.0, "title": None, "url": None,
                     "answer": None}  # fmt: skip


@pytest.mark.parametrize(
    ("instance", "field", "says"),
    [
        ({"token_ids": "12 13"}, "instances.0.token_ids", "list of 1..256"),
        ({"token_ids": []}, "instances.0.token_ids", "list of 1..256"),
        ({"token_ids": list(range(1, 258))}, "instances.0.token_ids", "list of 1..256"),
        ({"token_ids": [1, 100]}, "instances.0.token_ids", "integers in [0, 100)"),
        ({"token_ids": [1, -1]}, "instances.0.token_ids", "integers in [0, 100)"),
        ({"token_ids": [1, True]}, "instances.0.token_ids", "integers in [0, 100)"),
        ({"token_ids": [1, 2.0]}, "instances.0.token_ids", "integers in [0, 100)"),
        ({"text": "where is my order"}, "instances.0.token_ids", "is required"),
        ([1, 2], "instances.0", "must be an object"),
    ],
)
def test_bad_token_ids_are_the_callers_400_naming_the_field(instance: object, field: str, says: str) -> None:
    with pytest.raises(InvalidInstances) as raised:
        checked_token_ids([instance], buckets=100)

    assert raised.value.status == 400
    assert raised.value.field == field
    assert says in raised.value.message


def test_a_request_from_another_vectoriser_is_refused_with_503() -> None:
    version = ModelVersion("helpbot", 3, ("token_ids",), "tensorflow", tags={"vectoriser": "hash-ngram-v1:32768"})

    check_vectoriser(version, "hash-ngram-v1:32768")
    check_vectoriser(version, None)
    with pytest.raises(VectoriserMismatch) as raised:
        check_vectoriser(version, "hash-ngram-v2:65536")

    assert raised.value.status == 503
    assert raised.value.code == "vectoriser_mismatch"
    assert "hash-ngram-v2:65536" in raised.value.message
