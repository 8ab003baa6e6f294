"""Text processing of the help-centre chatbot: ONE code path for the training job and the runtime endpoint.

``normalise`` -> ``tokens`` -> ``vectorise`` (hashed n-gram ids in ``[1, TEXT_BUCKETS)``; 0 is padding).
Pure Python (no pandas/pyarrow): the ``help-text`` job and the Flask runtime both import it, and a model records
the ``VECTORISER_ID`` it was trained with so the engine can refuse ids made by a different algorithm.
"""

from data_processing.text.vectoriser import (
    MAX_TOKENS,
    STOP_WORDS,
    TEXT_BUCKETS,
    VECTORISER_ID,
    normalise,
    token_id,
    tokens,
    vectorise,
)

__all__ = [
    "MAX_TOKENS",
    "STOP_WORDS",
    "TEXT_BUCKETS",
    "VECTORISER_ID",
    "normalise",
    "token_id",
    "tokens",
    "vectorise",
]
