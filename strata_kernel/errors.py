"""One error hierarchy for every deployable; each error knows its HTTP status and a stable code."""

from __future__ import annotations


class StrataError(Exception):
    """Base of every error a Strata service turns into a JSON response."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        #: seconds after which the caller may try again (sent as ``Retry-After`` with a 429 or 503)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class BadRequest(StrataError):
    status = 400
    code = "bad_request"


class Unauthorized(StrataError):
    status = 401
    code = "unauthorized"


class Forbidden(StrataError):
    """The caller is known but not allowed (a wrong credential)."""

    status = 403
    code = "forbidden"


class NotFound(StrataError):
    status = 404
    code = "not_found"


class Conflict(StrataError):
    status = 409
    code = "conflict"


class PayloadTooLarge(StrataError):
    """The request body is over the endpoint's limit; it was not read."""

    status = 413
    code = "request_too_large"


class TooManyRequests(StrataError):
    """The service sheds this call to keep its answers fast; the caller may retry after ``retry_after``."""

    status = 429
    code = "too_many_requests"


class Unavailable(StrataError):
    """A dependency (another service, a store) cannot answer right now; the caller may retry."""

    status = 503
    code = "unavailable"


class UpstreamError(StrataError):
    """A dependency answered, but with something we cannot use."""

    status = 502
    code = "upstream_error"


class ConfigurationError(StrataError):
    """Settings that cannot work (unknown adapter, missing path). Raised at start-up, never per request."""

    code = "configuration_error"


_BY_STATUS: dict[int, type[StrataError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: TooManyRequests,
    502: UpstreamError,
    503: Unavailable,
}


def error_for_status(
    status: int, message: str, code: str | None = None, field: str | None = None, retry_after: float | None = None
) -> StrataError:
    """Rebuild a typed error from another service's JSON error response."""
    cls = _BY_STATUS.get(status, UpstreamError if status >= 500 else BadRequest)
    return cls(message, code=code, field=field, retry_after=retry_after)
