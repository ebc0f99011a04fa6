"""A migrated SQLite store file per test process, copied for each test's store.

Migrating a new SQLite file takes 0.1 s of CPU, and the `store` fixtures' migrations were 6% of
the test processes' CPU. The `store` fixtures on SQLite start from a copy of one migrated file, as
those on PostgreSQL start from the session's migrated database. The migrations themselves are
tested on new files (tests/store/test_db.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vigil.store.core import Store


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store file migrated to the latest revision, made once per test process (the
    root conftest makes it visible to every test)."""
    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "vigil.db"
    Store.open(f"sqlite:///{path}", str(folder / "artifacts")).close()
    left = [p.name for p in folder.glob("vigil.db-*")]
    assert left == [], f"the closed store left {left}: a copy of the file alone would miss them"
    return path


def sqlite_copy(migrated: Path, path: Path) -> str:
    """The URL of a copy of the migrated store file `migrated` at `path`."""
    shutil.copyfile(migrated, path)
    return f"sqlite:///{path}"
