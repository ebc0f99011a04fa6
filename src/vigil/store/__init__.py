"""The metadata store (SQLAlchemy + Alembic), the artifact store (folder or S3), and the prediction
and label files (Parquet + DuckDB)."""

from vigil.store.artifacts import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    open_artifact_store,
    validate_key,
)
from vigil.store.core import Store
from vigil.store.db import create_store_engine, current_revision, head_revision, upgrade
from vigil.store.predictions import PredictionStore
from vigil.store.specs import ModelSpec, Scope

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "ModelSpec",
    "PredictionStore",
    "S3ArtifactStore",
    "Scope",
    "Store",
    "create_store_engine",
    "current_revision",
    "head_revision",
    "open_artifact_store",
    "upgrade",
    "validate_key",
]
