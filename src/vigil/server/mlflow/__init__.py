"""MLflow compatibility: MLflow's REST API (tracking, registry, proxied artifacts) mapped onto
Vigil's own tracking and registry services, and `vigil import mlflow` for existing MLflow stores.

Nothing here imports the `mlflow` package: the wire format is plain JSON, and the importer reads
MLflow's file and SQLite layouts directly.
"""
