"""Vigil's error tree. Every error a user can cause is a `VigilError` that carries an HTTP status,
so the server maps it to a JSON body and the CLI to exit code 2 without knowing each kind."""

from __future__ import annotations

from typing import Any, ClassVar


class VigilError(Exception):
    """Base class for every error Vigil raises on purpose.

    `message` says what was wrong, with which value, and what to do about it.
    """

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "vigil_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInputError(VigilError):
    """The data or an argument given to Vigil cannot be used as it is."""

    status_code = 422
    code = "invalid_input"


class UnsupportedFormatError(InvalidInputError):
    """A file or object is of a format Vigil does not read."""

    code = "unsupported_format"


class SerializationError(InvalidInputError):
    """Bytes that should hold a Vigil object are corrupt, truncated or of an unknown version."""

    code = "serialization_error"


class SchemaConflictError(VigilError):
    """Two things that must agree on a column's kind do not."""

    status_code = 409
    code = "schema_conflict"


class NotFoundError(VigilError):
    """A named resource does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(VigilError):
    """The request conflicts with the current state (a duplicate, an immutable value)."""

    status_code = 409
    code = "conflict"


class AuthenticationError(VigilError):
    """No valid credentials were given."""

    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(VigilError):
    """The credentials are valid but their scope does not allow the action."""

    status_code = 403
    code = "forbidden"


class PayloadTooLargeError(VigilError):
    """A request body or upload is larger than the configured limit."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedEncodingError(VigilError):
    """A request body is compressed (Content-Encoding); the server reads plain bodies only."""

    status_code = 415
    code = "unsupported_encoding"


class TimeLimitError(VigilError):
    """A request ran out of its time budget (VIGIL_REQUEST_TIMEOUT_SECONDS)."""

    status_code = 504
    code = "time_limit"


class BodyTimeoutError(TimeLimitError):
    """The request body did not arrive within the time budget."""

    status_code = 408
    code = "request_timeout"


class PromotionRefusedError(ConflictError):
    """A promotion gate refused to move an alias; `details` holds the reasons and the numbers."""

    code = "promotion_refused"


def error_for_code(code: str, status: int) -> type[VigilError]:
    """The error class a server's answer names by its `error` code, else the one its HTTP status
    maps to, else `VigilError`: how a client raises what the server raised."""
    by_code: dict[str, type[VigilError]] = {}
    pending: list[type[VigilError]] = [VigilError]
    while pending:
        cls = pending.pop()
        by_code.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    by_status: dict[int, type[VigilError]] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
        413: PayloadTooLargeError,
        422: InvalidInputError,
    }
    return by_code.get(code) or by_status.get(status, VigilError)
