"""The one shape of every error answer, as the OpenAPI document describes it.

Each route documents `4XX` and `5XX` answers with `ErrorBody`, so that a client (and
schemathesis) can check error answers like any other; the handlers in `vigil.server.app` and
the MLflow routes (which add MLflow's `error_code`) render exactly this shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """An error answer: a stable code, a message naming the problem and the value."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="A stable code: invalid_input, not_found, forbidden, ...")
    message: str = Field(description="What was wrong, with which value, and what to do.")
    details: dict[str, Any] | None = Field(
        default=None, description="The fields involved (for invalid_input: `errors`)."
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request cannot be served as it is."},
    "5XX": {
        "model": ErrorBody,
        "description": "503 (with Retry-After): the store is busy, retry; 504: the request "
        "ran out of its time limit; 500: a fault of the server, see its log.",
    },
}


def validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """Pydantic's errors as one line naming each field: `body.name: Field required; ...`."""
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"
