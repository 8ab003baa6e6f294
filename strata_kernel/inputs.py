"""What every request must be before a view sees it: bounded in size, in JSON nesting and in header length, and
free of text no store can hold (NUL, lone UTF-16 surrogates). Installed once by ``create_service_app``.

- Body size: ``DEFAULT_BODY_LIMIT`` per request unless the view says otherwise (:func:`body_limit`); a body over it
  is refused with 413 before it is read (``Content-Length``), or as soon as a chunked body passes it.
- JSON: parsed once here (views reuse the result) with a nesting limit; too deep -> 400 ``invalid_json`` saying so.
- Text: a NUL or a lone surrogate in a JSON string, a path segment or a query value -> 400 ``invalid_text``.
- Headers of the published language (request id, routing key, vectoriser): printable ASCII and bounded, else 400
  ``invalid_header``. Every hop forwards them, so a bad one must stop at the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from flask import Flask, request

from strata_kernel.contracts import headers
from strata_kernel.errors import BadRequest, PayloadTooLarge
from strata_kernel.hook_marks import lean_covered

DEFAULT_BODY_LIMIT = 1024 * 1024
MAX_JSON_DEPTH = 32
#: header -> longest value accepted
BOUNDED_HEADERS = {
    headers.REQUEST_ID: headers.MAX_REQUEST_ID_CHARS,
    headers.ROUTING_KEY: headers.MAX_ROUTING_KEY_CHARS,
    headers.VECTORISER: 128,
}
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]*$")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LIMIT = "_strata_body_limit"

View = TypeVar("View", bound=Callable[..., Any])


class InvalidText(BadRequest):
    code = "invalid_text"


def body_limit(max_bytes: int) -> Callable[[View], View]:
    """This view accepts bodies of up to ``max_bytes`` (instead of ``DEFAULT_BODY_LIMIT``)."""

    def mark(view: View) -> View:
        setattr(view, _LIMIT, max_bytes)
        return view

    return mark


def limit_of(view: Callable[..., Any] | None) -> int:
    while view is not None:
        marked = getattr(view, _LIMIT, None)
        if marked is not None:
            return int(marked)
        view = getattr(view, "__wrapped__", None)
    return DEFAULT_BODY_LIMIT


def install_input_checks(app: Flask) -> None:
    @app.before_request
    @lean_covered
    def _check_request() -> None:
        check_header_values(request.headers.get)
        limit = limit_of(app.view_functions.get(request.endpoint or ""))
        request.max_content_length = limit  # werkzeug stops a chunked body there (413)
        check_body_size(request.content_length, limit)
        check_texts([*(request.view_args or {}).items(), *request.args.items(multi=True)])
        _check_json_body()


def check_header_values(header: Callable[[str], str | None]) -> None:
    """The headers of the published language are bounded printable ASCII (``header``: a name -> value getter)."""
    for name, longest in BOUNDED_HEADERS.items():
        value = header(name)
        if value is not None and not is_valid_header(name, value):
            raise BadRequest(
                f"{name}: must be 1..{longest} printable ASCII characters without spaces",
                code="invalid_header",
                field=name,
            )


def check_body_size(content_length: int | None, limit: int) -> None:
    if content_length is not None and content_length > limit:
        raise PayloadTooLarge(f"body of {content_length} bytes is over this endpoint's limit of {limit} bytes")


def check_texts(named_values: Iterable[tuple[str, Any]]) -> None:
    """Path parameters and query values: no NUL, no lone surrogate."""
    for name, value in named_values:
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise InvalidText(f"{name}: contains a NUL or an unpaired surrogate", field=name)


def is_valid_header(name: str, value: str) -> bool:
    return 0 < len(value) <= BOUNDED_HEADERS.get(name, 128) and _PRINTABLE_ASCII.match(value) is not None


def _check_json_body() -> None:
    """Parse a JSON body once, bounded; the views' ``get_json`` reuse it."""
    if not request.content_length and request.headers.get("Transfer-Encoding") is None:
        return
    document = checked_json(request.get_data(cache=True))
    if document is not NOT_JSON and request.is_json:
        request._cached_json = (document, document)  # Flask's get_json cache: no second parse


#: what :func:`checked_json` answers for a body that is not a JSON object or array, or is malformed
NOT_JSON: Any = object()


def checked_json(data: bytes) -> Any:
    """The body's JSON object or array, checked (nesting depth, storable text: else 400); ``NOT_JSON`` when it is
    not one (each view answers that in its own words)."""
    if not _looks_like_json(data):
        return NOT_JSON
    try:
        document = json.loads(data)
    except RecursionError:
        raise BadRequest(
            f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels", code="invalid_json", field="body"
        ) from None
    except ValueError:
        return NOT_JSON
    if _deeper_than(document, MAX_JSON_DEPTH):
        raise BadRequest(f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels", code="invalid_json", field="body")
    if _may_hold_unstorable_text(data):
        for path, text in _strings(document):
            if _UNSTORABLE.search(text):
                field = path or "body"
                raise InvalidText(f"{field}: contains a NUL or an unpaired surrogate", field=field)
    return document


def _looks_like_json(data: bytes) -> bool:
    """An object or array in any encoding ``json.loads`` reads (UTF-8, -16, -32, with or without a BOM)."""
    start = data[:64].decode(json.detect_encoding(data), "ignore")
    return start.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether any node (the root at depth 1) lies deeper than ``limit``; only containers are visited."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit or (children and depth + 1 > limit):
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _may_hold_unstorable_text(data: bytes) -> bool:
    """False when no parsed string can hold a NUL or a lone surrogate, so the per-string walk can be skipped.

    Only a ``\\u`` escape, UTF-8 bytes of a surrogate (lead byte 0xED; ``json.loads`` decodes bytes with
    ``surrogatepass``) or a UTF-16/32 body (it has NUL bytes) can bring one in: a raw NUL or control character
    inside a JSON string is refused by the parser itself.
    """
    return b"\\u" in data or b"\xed" in data or b"\x00" in data


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    """(path, text) of every key and string value, iteratively (no recursion on hostile input)."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, key
                stack.append((child, value))
        elif isinstance(node, list):
            stack.extend((f"{path}.{index}" if path else str(index), value) for index, value in enumerate(node))
        elif isinstance(node, str):
            yield path, node
