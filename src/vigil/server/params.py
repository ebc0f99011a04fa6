"""Path and query parameter types that routers share, bounded to what the store can keep.

An integer past 64 bits in a URL is a 422 naming the parameter, never an overflow in the
database driver (see `vigil.ranges`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from vigil.ranges import INT64_MAX

VersionPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="A version number.")]
IdPath = Annotated[int, Path(ge=1, le=INT64_MAX)]
CountQuery = Annotated[int, Query(ge=1, le=INT64_MAX)]

BINARY_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}
}
"""`responses=` of a route that answers raw bytes (so the document does not claim JSON)."""
