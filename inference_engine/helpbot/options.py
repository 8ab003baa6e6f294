"""The chatbot model's defaults: the engine's settings stay untouched, so everything tunable lives here."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAME = "helpbot"
FRAMEWORK = "tensorflow"
FEATURE = "token_ids"

EXAMPLES_TABLE = "processed.help_examples"
ARTICLES_TABLE = "processed.help_articles"
HELDOUT_TABLE = "processed.help_heldout"

#: the contract's request bound (docs/contracts.md, "Help-centre chatbot"): 1..256 ids per question
MAX_TOKENS = 256
#: data_processing.text's vectoriser when the examples table does not name one (no ``vectoriser`` column)
DEFAULT_VECTORISER = "hash-ngram-v1:32768"
DEFAULT_BUCKETS = 32768


@dataclass(frozen=True)
class HelpbotOptions:
    """Defaults chosen on validation only (mean of 3 seeded validation splits of the demo's help_examples);
    processed.help_heldout is never used to choose them."""

    embedding_dim: int = 64
    dropout: float = 0.3
    learning_rate: float = 0.02
    batch_size: int = 16
    max_epochs: int = 60
    #: epochs without a better validation loss before training stops (the best weights are kept)
    patience: int = 12
    #: a token is "generic" when the examples of at least this share of the articles (and >= 3) use it
    generic_article_share: float = 0.25
    #: bags of generic tokens per training example, taught to answer uniformly (so "how do I ... my order"
    #: without a topical word gets a low confidence instead of a random article)
    generic_examples_ratio: float = 0.5
    #: share of each article's listed questions held out (from training data only) to choose the threshold
    validation_fraction: float = 0.4
    #: the threshold is the lowest confidence at which accuracy among answered validation questions reaches this
    target_answered_accuracy: float = 0.85
    #: ... and at which at least this share of the pseudo out-of-scope questions is refused (a product target,
    #: not tuned: the rule could otherwise never see an off-topic question)
    target_out_of_scope_rejection: float = 0.8
    #: calibration rounds, each with its own seeded validation split (round 0 is the final model's) and one model
    #: that never sees ``calibration_left_out_share`` of the articles; their confidences are pooled
    calibration_rounds: int = 3
    calibration_left_out_share: float = 0.2
    min_examples: int = 20
    min_articles: int = 2
    seed: int = 7
    #: used when the examples table carries no ``vectoriser`` column
    vectoriser: str = DEFAULT_VECTORISER
