"""GET /api/v1/registry/models/{name}/versions/{version}/comparison: a version against the
previous one or an alias's holder (quality metrics, feature importance, training data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from vigil.monitor.versions import PREVIOUS, compare_versions
from vigil.server.deps import ReadAccess, StoreDep
from vigil.server.params import VersionPath

router = APIRouter(tags=["registry"])


@router.get("/api/v1/registry/models/{name}/versions/{version}/comparison")
def version_comparison(
    _: ReadAccess,
    store: StoreDep,
    name: Annotated[str, Path(max_length=200)],
    version: VersionPath,
    against: Annotated[str, Query(max_length=200)] = PREVIOUS,
    top_k: Annotated[int, Query(ge=0, le=100)] = 3,
    method: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """`against`: `previous` (the version before) or an alias (its holder now). Sections a side
    cannot fill (no metrics, importances or training profile) are null, and `missing` says why."""
    comparison = compare_versions(
        store, name, version, against=against, top_k=top_k, importance_method=method
    )
    return comparison.to_dict()
