"""The vectoriser guard: a model only answers token ids made by the vectoriser it was trained with.

Token ids of another vectoriser (other n-grams, another hash or bucket count) are valid integers that mean
something else: the model would answer confidently and wrongly. So the engine refuses (503) instead.
No TensorFlow here: the service layer checks a request before it reaches the runtime.
"""

from __future__ import annotations

from inference_engine.domain.models import ModelVersion
from strata_kernel.errors import Unavailable


class VectoriserMismatch(Unavailable):
    code = "vectoriser_mismatch"


def model_vectoriser(model_version: ModelVersion) -> str | None:
    """The ``vectoriser`` tag written at training time (None for models that take no token ids)."""
    return model_version.tags.get("vectoriser")


def check_vectoriser(model_version: ModelVersion, requested: str | None) -> None:
    """Refuse a request whose token ids come from another vectoriser than the model's (503).

    A request that names none is accepted (callers that predate the header); a model without the tag takes
    no token ids, so there is nothing to check.
    """
    expected = model_vectoriser(model_version)
    if requested is None or expected is None or requested == expected:
        return
    raise VectoriserMismatch(
        f"model {model_version.name} v{model_version.version} was trained on vectoriser {expected!r}, "
        f"the request's token ids come from {requested!r}"
    )
