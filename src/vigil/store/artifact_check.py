"""Is this the artifact store of this database? A store is two places (the database and the
artifact store); opened with the wrong artifact location (a server started without
`--artifacts`), every page that reads files quietly finds none. `artifacts_problem` checks the
newest file each kind of record refers to and names the mismatch when none of them exists."""

from __future__ import annotations

import logging

from sqlalchemy import select

from vigil.store.core import Store
from vigil.store.registry_tables import RegisteredModel, RegistryModelVersion
from vigil.store.tracking_tables import DatasetVersion, RunArtifact

logger = logging.getLogger("vigil.store")


def _newest_keys(store: Store) -> list[tuple[str, str]]:
    """(what, key): the newest registered version's model file, the newest run artifact and the
    newest dataset version's profile, those the database has."""
    found: list[tuple[str, str]] = []
    with store.session() as session:
        version = session.execute(
            select(
                RegisteredModel.name, RegistryModelVersion.version, RegistryModelVersion.source_key
            )
            .join(RegisteredModel, RegisteredModel.id == RegistryModelVersion.model_id)
            .order_by(RegistryModelVersion.id.desc())
            .limit(1)
        ).first()
        if version is not None:
            found.append((f"the model file of {version[0]} v{version[1]}", version[2]))
        artifact = session.execute(
            select(RunArtifact.run_id, RunArtifact.path, RunArtifact.key)
            .order_by(RunArtifact.created_at.desc())
            .limit(1)
        ).first()
        if artifact is not None:
            found.append((f"{artifact[1]} of run {artifact[0][:8]}", artifact[2]))
        dataset = session.execute(
            select(DatasetVersion.id, DatasetVersion.profile_key)
            .where(DatasetVersion.profile_key.is_not(None))
            .order_by(DatasetVersion.id.desc())
            .limit(1)
        ).first()
        if dataset is not None and dataset[1] is not None:
            found.append(("a dataset version's profile", dataset[1]))
        session.rollback()
    return found


def artifacts_problem(store: Store) -> str | None:
    """None when the artifact store holds a file the database refers to (or it refers to none);
    else a sentence naming the artifact location, the files looked for and what to do."""
    wanted = _newest_keys(store)
    try:
        if not wanted or any(store.artifacts.exists(key) for _, key in wanted):
            return None
    except Exception:  # a diagnostic: an S3 refusal (403) or a timeout must not stop the server
        logger.warning("Vigil: could not check the artifact store", exc_info=True)
        return None
    what, key = wanted[0]
    others = f" or {len(wanted) - 1} other" if len(wanted) > 1 else ""
    return (
        f"the artifact store at {store.artifacts.url} holds none of the files this database "
        f"refers to (not {what}, {key}{others}), so prediction and label rows, registered "
        "models, run artifacts and dataset contents will look missing: start the server with "
        "--artifacts (VIGIL_ARTIFACTS_URL) set to this store's artifact folder or s3:// URL"
    )


__all__ = ["artifacts_problem"]
