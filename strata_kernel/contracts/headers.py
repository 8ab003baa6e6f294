"""Every HTTP header one deployable sets for another (besides ``Content-Type`` and ``Authorization``)."""

from __future__ import annotations

#: the request id of the click that started a chain; every hop logs it and passes it on
REQUEST_ID = "X-Request-ID"
#: keys the inference engine's sticky canary split (data_processing sends the customer id, else the request id)
ROUTING_KEY = "X-Routing-Key"
MAX_ROUTING_KEY_CHARS = 256
MAX_REQUEST_ID_CHARS = 64
#: names the vectoriser that produced a text model's token ids; the engine refuses ids of another one
VECTORISER = "X-Vectoriser"
#: milliseconds the caller still waits for the answer (see strata_kernel.contracts.deadline)
DEADLINE_MS = "X-Deadline-Ms"
#: an answer's caveat, e.g. data_processing's ``299`` warning about a deprecated feature
WARNING = "Warning"


def is_header_text(value: str) -> bool:
    """A value every hop can pass on as a header: printable ASCII, no spaces (``!``..``~``)."""
    return value.isascii() and all("!" <= character <= "~" for character in value)
