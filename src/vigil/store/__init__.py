"""The metadata store (SQLAlchemy + Alembic), the artifact store (folder or S3), and the prediction
and label files (Parquet + DuckDB).

Import from the submodules (`vigil.store.core.Store`, `vigil.store.artifacts`, ...): this package
imports nothing itself, so `vigil.api.specs` and `vigil.api.wire`, which the remote client
uses, do not pull in SQLAlchemy or DuckDB.
"""
