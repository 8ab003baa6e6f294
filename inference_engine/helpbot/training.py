"""Use case: train the chatbot model on the lake's help tables, choose its threshold, evaluate, register it.

- training examples: processed.help_examples (titles and questions of each article), labels from help_articles;
- a validation slice of those examples (per article, seeded) stops training;
- the confidence threshold is chosen on pooled calibration rounds (``calibrate``): in-scope validation slices and
  the questions of articles left out of an auxiliary model (pseudo out of scope);
- processed.help_heldout (paraphrases written for evaluation, plus out-of-scope questions) is only scored.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine import artifact_identity as identity
from inference_engine.errors import TrainingDataError
from inference_engine.helpbot import data
from inference_engine.helpbot.encoding import (
    LABELS_FILE,
    MODEL_FILE,
    VOCABULARY_FILE,
    Decisions,
    Labels,
    Vocabulary,
    decide,
    encode,
)
from inference_engine.helpbot.evaluation import (
    HeldoutMetrics,
    ThresholdChoice,
    choose_threshold,
    heldout_metrics,
    left_out_folds,
)
from inference_engine.helpbot.evaluation import split_validation as validation_mask
from inference_engine.helpbot.options import (
    ARTICLES_TABLE,
    DEFAULT_BUCKETS,
    EXAMPLES_TABLE,
    FEATURE,
    FRAMEWORK,
    HELDOUT_TABLE,
    MAX_TOKENS,
    MODEL_NAME,
    HelpbotOptions,
)
from inference_engine.ports import ModelRegistry, TrainedCandidate, TrainingDataSource
from inference_engine.reference import TOKEN_COUNT, categorical_reference_document, documents
from strata_kernel import provenance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    vocabulary: Vocabulary
    labels: Labels
    train: data.Examples
    validation: data.Examples
    heldout: data.Examples
    #: every usable example (train + validation): calibration splits it its own ways
    examples: data.Examples


@dataclass(frozen=True)
class Trained:
    """One fitted model with what scoring it needs."""

    fitted: Any  # model.Fitted
    scorer: Any  # model.Scorer, or eager calls for calibration's throwaway models
    vocabulary: Vocabulary
    index: dict[str, int]


@dataclass(frozen=True)
class Calibration:
    """Pooled confidences the threshold is chosen on (training tables only)."""

    confidence: np.ndarray  # in-scope validation questions, per round
    correct: np.ndarray
    out_of_scope: np.ndarray  # listed questions of articles their model never saw
    rounds: int
    seconds: float


def train_helpbot(
    data_source: TrainingDataSource, registry: ModelRegistry, options: HelpbotOptions | None = None
) -> dict[str, Any]:
    """Train, choose the threshold, evaluate on the held-out questions, register; returns the CLI's summary.

    The registered model is the one trained on every example but the validation slice of ``options.seed`` (its
    early stopping needs that slice); it is also calibration round 0, so the threshold is chosen partly on its
    own confidences.
    """
    options = options or HelpbotOptions()
    tables = {name: data_source.locate(name) for name in (EXAMPLES_TABLE, ARTICLES_TABLE, HELDOUT_TABLE)}
    prepared = prepare(
        data.read_examples(tables[EXAMPLES_TABLE]),
        data.read_articles(tables[ARTICLES_TABLE]),
        data.read_examples(tables[HELDOUT_TABLE]),
        options,
    )
    vocabulary, labels = prepared.vocabulary, prepared.labels
    classes = [article.article_id for article in labels.articles]

    started = time.perf_counter()
    final = train_model(prepared.train, prepared.validation, classes, vocabulary, options)
    log.info("trained %s on %d examples in %.1fs", MODEL_NAME, len(prepared.train), time.perf_counter() - started)
    calibration = calibrate(prepared, final, options)
    choice = choose_threshold(calibration.confidence, calibration.correct, options.target_answered_accuracy,
                              calibration.out_of_scope, options.target_out_of_scope_rejection)  # fmt: skip
    if not choice.target_met:
        log.warning("no threshold reaches answered accuracy %.2f and pseudo out-of-scope rejection %.2f on "
                    "validation; using the best trade-off %.4f", options.target_answered_accuracy,
                    options.target_out_of_scope_rejection, choice.threshold)  # fmt: skip
    heldout = score(final.scorer, prepared.heldout.token_ids, vocabulary.known_mask(), vocabulary.max_length,
                    choice.threshold)  # fmt: skip
    expected = np.array([-2 if a is None else final.index.get(a, -1) for a in prepared.heldout.article_ids])
    metrics = heldout_metrics(heldout, expected)

    data_version = ",".join(f"{t.name}@v{t.version}" for t in (tables[EXAMPLES_TABLE], tables[ARTICLES_TABLE]))
    reference = _reference(prepared, final, classes, choice.threshold, data_version)
    candidate_tags = _tags(vocabulary, choice, calibration, metrics, data_version, tables[HELDOUT_TABLE])
    params = _params(options, prepared, calibration, final.fitted.epochs, final.fitted.best_epoch)
    with tempfile.TemporaryDirectory(prefix="helpbot-") as tmp:
        directory = Path(tmp)
        final.fitted.model.save(directory / MODEL_FILE)
        (directory / LABELS_FILE).write_text(labels.to_json())
        (directory / VOCABULARY_FILE).write_text(vocabulary.to_json())
        sample = _record_provenance(candidate_tags, directory, prepared, tables)
        published = registry.publish(
            TrainedCandidate(MODEL_NAME, FRAMEWORK, directory, (FEATURE,), params,
                             _metrics(choice, metrics), candidate_tags,
                             documents={**documents(reference), identity.SAMPLE_DOCUMENT: sample,
                                        provenance.LOCK_DOCUMENT: provenance.lock_document()})
        )  # fmt: skip
    return {
        "model": MODEL_NAME,
        "version": published.version,
        "threshold": round(choice.threshold, 4),
        "threshold_target_met": choice.target_met,
        **{name: round(value, 4) for name, value in metrics.as_dict().items()},
        "validation_answered_accuracy": round(choice.answered_accuracy, 4),
        "validation_coverage": round(choice.coverage, 4),
        "pseudo_out_of_scope_rejection": round(choice.out_of_scope_rejection, 4),
        "articles": len(labels.articles),
        "examples_train": len(prepared.train),
        "examples_validation": len(prepared.validation),
        "calibration_in_scope": len(calibration.confidence),
        "calibration_out_of_scope": len(calibration.out_of_scope),
        "heldout_in_scope": metrics.in_scope,
        "heldout_out_of_scope": metrics.out_of_scope,
        "vectoriser": vocabulary.vectoriser,
        "data_version": data_version,
    }


def _record_provenance(
    tags: dict[str, str], directory: Path, prepared: Prepared, tables: dict[str, Any]
) -> dict[str, Any]:
    """What the version was built from (strata_kernel.provenance), the fingerprint of the files that decide its
    answers, and its probabilities on held-out questions (the sample a rebuild is compared on), scored as the
    engine serves them."""
    tags.update(provenance.collect({t.name: t.version for t in tables.values()}, params_section=MODEL_NAME))
    tags[provenance.PREFIX + "fingerprint"] = identity.digest(identity.fingerprint(directory, FRAMEWORK))
    batch, scored = encode(prepared.heldout.token_ids, prepared.vocabulary.known_mask(),
                           prepared.vocabulary.max_length)  # fmt: skip
    batch = batch[scored][: identity.SAMPLE_ROWS]
    probabilities = identity.predict_sample(directory, FRAMEWORK, identity.token_sample(batch, batch[:, :0]))
    return identity.token_sample(batch, probabilities)


def _reference(prepared: Prepared, final: Trained, classes: list[str], threshold: float,
               data_version: str) -> dict[str, Any]:  # fmt: skip
    """What users' questions look like to this version: the validation and held-out questions (never trained on),
    the article it names for each (its best guess, as ``inference.predictions`` logs it) and their length."""
    questions = [*prepared.validation.token_ids, *prepared.heldout.token_ids]
    vocabulary = final.vocabulary
    decisions = score(final.scorer, questions, vocabulary.known_mask(), vocabulary.max_length, threshold)
    predicted = [classes[top] if top >= 0 else None for top in decisions.top.tolist()]
    lengths = {TOKEN_COUNT: [float(len(ids)) for ids in questions]}
    return categorical_reference_document(predicted, lengths, meta={"data_version": data_version,
                                          "rows_from": "validation and held-out questions"})  # fmt: skip


def train_model(
    train: data.Examples, validation: data.Examples, classes: list[str], vocabulary: Vocabulary,
    options: HelpbotOptions, serving: bool = True,
) -> Trained:  # fmt: skip
    """Fit one model on ``train`` (plus its generic bags), early-stopped on ``validation``, over ``classes``.

    ``vocabulary`` names the vectoriser; the ids the model knows are counted from ``train`` alone, as at serving.
    A model scored only a few times (``serving=False``) is called eagerly: a traced ``Scorer`` per model would
    cost a trace each and make TensorFlow warn about retracing.
    """
    from inference_engine.helpbot.model import Scorer, fit

    counts = Counter(token for ids in train.token_ids for token in ids)
    vocabulary = Vocabulary(vocabulary.vectoriser, vocabulary.buckets, vocabulary.max_length, dict(counts))
    known, index = vocabulary.known_mask(), {article: position for position, article in enumerate(classes)}
    x_train, _ = encode(train.token_ids, known, vocabulary.max_length)
    y_train = np.array([index[a] for a in train.article_ids], dtype=np.int64)
    x_generic, _ = encode(generic_examples(train, options), known, vocabulary.max_length)
    targets = np.vstack([np.eye(len(classes), dtype=np.float32)[y_train],
                         np.full((len(x_generic), len(classes)), 1 / len(classes), dtype=np.float32)])  # fmt: skip
    x_valid, scored_valid = encode(validation.token_ids, known, vocabulary.max_length)
    y_valid = np.array([index[a] for a in validation.article_ids], dtype=np.int64)
    fitted = fit(np.vstack([x_train, x_generic]), targets, (x_valid[scored_valid], y_valid[scored_valid]),
                 vocabulary.buckets, options)  # fmt: skip
    scorer = Scorer(fitted.model) if serving else _eager(fitted.model, len(classes))
    return Trained(fitted, scorer, vocabulary, index)


def _eager(model: Any, classes: int) -> Any:
    def scorer(batch: np.ndarray) -> np.ndarray:
        if len(batch) == 0:
            return np.zeros((0, classes), dtype=np.float32)
        return np.asarray(model(batch, training=False))

    return scorer


def calibrate(prepared: Prepared, final: Trained, options: HelpbotOptions) -> Calibration:
    """Confidences to choose the threshold on, from the training tables only, pooled over seeded rounds.

    Round r (seed ``options.seed + r``): a validation split of the listed questions; the in-scope model trained on
    the rest gives the validation questions' confidences and correctness (round 0's model is ``final``). A second
    model, trained on the same split without a fold of articles (``left_out_folds``), gives the confidences of
    those articles' listed questions: questions about topics it never saw, i.e. out of scope. With fewer classes
    its confidences run a little higher than the final model's, which errs on the side of refusing.
    """
    started = time.perf_counter()
    examples, vocabulary = prepared.examples, prepared.vocabulary
    articles, sources = examples.article_ids.astype(str), examples.sources.astype(str)
    classes = [article.article_id for article in prepared.labels.articles]
    rounds = max(1, options.calibration_rounds)
    folds = left_out_folds(classes, options.calibration_left_out_share, rounds, options.seed)
    confidences, corrects, out_of_scope = [], [], []
    for r in range(rounds):
        log.info("calibration round %d of %d", r + 1, rounds)
        round_options = replace(options, seed=options.seed + r)
        held = validation_mask(articles, sources, options.validation_fraction, round_options.seed)
        in_scope = final if r == 0 else train_model(examples.take(~held), examples.take(held), classes, vocabulary,
                                                    round_options, serving=False)  # fmt: skip
        confidence, correct = _validation_scores(in_scope, examples.take(held))
        confidences.append(confidence)
        corrects.append(correct)
        left = np.isin(articles, folds[r])
        kept = [article for article in classes if article not in folds[r]]
        if len(kept) < max(2, options.min_articles) or not (held & ~left).any():
            log.warning("calibration round %d: too few articles left to train a pseudo out-of-scope model", r)
            continue
        blind = train_model(examples.take(~held & ~left), examples.take(held & ~left), kept, vocabulary,
                            round_options, serving=False)  # fmt: skip
        questions = examples.take(left & (sources == "question"))
        known = blind.vocabulary.known_mask()
        out_of_scope.append(score(blind.scorer, questions.token_ids, known, vocabulary.max_length, 0.0).confidence)
    seconds = time.perf_counter() - started
    log.info("calibrated over %d round(s) in %.1fs", rounds, seconds)
    return Calibration(np.concatenate(confidences), np.concatenate(corrects),
                       np.concatenate(out_of_scope) if out_of_scope else np.zeros(0), rounds, seconds)  # fmt: skip


def _validation_scores(model: Trained, validation: data.Examples) -> tuple[np.ndarray, np.ndarray]:
    """Each validation question's confidence and whether its top article is right (a question with no known id
    has confidence 0 and is never right: it is never answered)."""
    decisions = score(model.scorer, validation.token_ids, model.vocabulary.known_mask(),
                      model.vocabulary.max_length, 0.0)  # fmt: skip
    expected = np.array([model.index[a] for a in validation.article_ids], dtype=np.int64)
    return decisions.confidence, (decisions.top == expected) & (decisions.confidence > 0)


def score(scorer: Any, rows: list[list[int]], known: np.ndarray, max_length: int, threshold: float) -> Decisions:
    """The runtime's decision for each question (same encoding, same scorer, same threshold rule)."""
    batch, scored = encode(rows, known, max_length)
    return decide(scorer(batch[scored]), scored, threshold)


def prepare(
    examples: data.Examples, articles: dict[str, Any], heldout: data.Examples, options: HelpbotOptions
) -> Prepared:
    """Check the tables, keep the usable examples, split validation off, count the vocabulary of the rest."""
    vectoriser = _vectoriser(examples, heldout, options)
    buckets = _buckets(vectoriser)
    examples = _cleaned(examples, buckets)
    pairs = zip(examples.article_ids.tolist(), examples.token_ids, strict=True)
    usable = np.array([a is not None and a in articles and len(ids) > 0 for a, ids in pairs], dtype=bool)
    if usable.sum() < len(examples):
        log.warning("%d examples have no token ids or an article missing from %s", len(examples) - usable.sum(),
                    ARTICLES_TABLE)  # fmt: skip
    examples = examples.take(usable)
    classes = sorted(set(examples.article_ids.tolist()))
    if len(examples) < options.min_examples or len(classes) < options.min_articles:
        raise TrainingDataError(
            f"{EXAMPLES_TABLE} has {len(examples)} usable examples of {len(classes)} articles; need at least "
            f"{options.min_examples} examples of {options.min_articles} articles"
        )
    held = validation_mask(examples.article_ids.astype(str), examples.sources.astype(str),
                           options.validation_fraction, options.seed)  # fmt: skip
    if not held.any():
        raise TrainingDataError(f"{EXAMPLES_TABLE}: too few examples per article to hold out a validation slice")
    train = examples.take(~held)
    counts = Counter(token for ids in train.token_ids for token in ids)
    return Prepared(
        Vocabulary(vectoriser, buckets, MAX_TOKENS, dict(counts)),
        Labels(tuple(articles[a] for a in classes)),
        train,
        examples.take(held),
        _cleaned(heldout, buckets),
        examples,
    )


def generic_examples(train: data.Examples, options: HelpbotOptions) -> list[list[int]]:
    """Bags of the tokens many articles share (fillers like "how do i", "my order"), as long as real questions.

    They say nothing about an article, so the model learns a flat answer for them: a question with no topical
    token (an off-topic one, once its unseen words are dropped) then falls below the threshold.
    """
    articles_of: dict[int, set[str]] = {}
    for article, ids in zip(train.article_ids.tolist(), train.token_ids, strict=True):
        for token in ids:
            articles_of.setdefault(token, set()).add(article)
    spread = max(3, int(np.ceil(options.generic_article_share * len(set(train.article_ids.tolist())))))
    generic = np.array(sorted(t for t, owners in articles_of.items() if len(owners) >= spread), dtype=np.int64)
    count = int(len(train) * options.generic_examples_ratio)
    if len(generic) == 0 or count == 0:
        return []
    rng = np.random.default_rng(options.seed)
    lengths = rng.choice([len(ids) for ids in train.token_ids], size=count)
    return [rng.choice(generic, size=int(length)).tolist() for length in lengths]


def _vectoriser(examples: data.Examples, heldout: data.Examples, options: HelpbotOptions) -> str:
    named = examples.vectorisers | heldout.vectorisers
    if len(named) > 1:
        raise TrainingDataError(f"the help tables mix vectorisers: {', '.join(sorted(named))}")
    return next(iter(named)) if named else options.vectoriser


def _buckets(vectoriser: str) -> int:
    """The id's first all-digit segment is its bucket count (``hash-ngram-v1:32768:crc32:<fingerprint>``)."""
    counts = [int(part) for part in vectoriser.split(":")[1:] if part.isdigit() and int(part) > 1]
    return counts[0] if counts else DEFAULT_BUCKETS


def _cleaned(examples: data.Examples, buckets: int) -> data.Examples:
    """Token ids outside [1, buckets) cannot be embedded: dropped (0 is padding), and at most MAX_TOKENS kept."""
    cleaned = [[t for t in ids if isinstance(t, int) and 0 < t < buckets][:MAX_TOKENS] for ids in examples.token_ids]
    return data.Examples(examples.example_ids, examples.article_ids, examples.sources, cleaned, examples.vectorisers)


def _tags(
    vocabulary: Vocabulary, choice: ThresholdChoice, calibration: Calibration, metrics: HeldoutMetrics,
    data_version: str, heldout: Any,
) -> dict[str, str]:  # fmt: skip
    return {
        "framework": FRAMEWORK,
        "features": f'["{FEATURE}"]',
        "vectoriser": vocabulary.vectoriser,
        # repr round-trips the float exactly: the runtime answers exactly as the evaluation did
        "threshold": repr(choice.threshold),
        "threshold_target_met": str(choice.target_met).lower(),
        "validation_answered_accuracy": f"{choice.answered_accuracy:.4f}",
        "validation_coverage": f"{choice.coverage:.4f}",
        # the calibration the threshold was chosen on (training tables only): what the choice could see
        "pseudo_out_of_scope_rejection": f"{choice.out_of_scope_rejection:.4f}",
        "calibration_in_scope_questions": str(len(calibration.confidence)),
        "calibration_out_of_scope_questions": str(len(calibration.out_of_scope)),
        **{f"metric_{name}": f"{value:.4f}" for name, value in metrics.as_dict().items()},
        "data_version": data_version,
        "heldout_version": f"{heldout.name}@v{heldout.version}",
    }


def _metrics(choice: ThresholdChoice, metrics: HeldoutMetrics) -> dict[str, float]:
    return {
        **metrics.as_dict(),
        "threshold": choice.threshold,
        "validation_answered_accuracy": choice.answered_accuracy,
        "validation_coverage": choice.coverage,
        "pseudo_out_of_scope_rejection": choice.out_of_scope_rejection,
    }


def _params(
    options: HelpbotOptions, prepared: Prepared, calibration: Calibration, epochs: int, best_epoch: int
) -> dict[str, Any]:
    return {
        "embedding_dim": options.embedding_dim,
        "dropout": options.dropout,
        "learning_rate": options.learning_rate,
        "batch_size": options.batch_size,
        "max_epochs": options.max_epochs,
        "epochs_run": epochs,
        "best_epoch": best_epoch,
        "validation_fraction": options.validation_fraction,
        "target_answered_accuracy": options.target_answered_accuracy,
        "target_out_of_scope_rejection": options.target_out_of_scope_rejection,
        "calibration_rounds": calibration.rounds,
        "calibration_left_out_share": options.calibration_left_out_share,
        "calibration_seconds": round(calibration.seconds, 1),
        "generic_article_share": options.generic_article_share,
        "generic_examples_ratio": options.generic_examples_ratio,
        "seed": options.seed,
        "buckets": prepared.vocabulary.buckets,
        "max_length": prepared.vocabulary.max_length,
        "classes": len(prepared.labels.articles),
        "examples_train": len(prepared.train),
        "examples_validation": len(prepared.validation),
    }
