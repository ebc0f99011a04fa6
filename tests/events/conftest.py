from __future__ import annotations

from tests.monitor.conftest import settings, sqlite_store
from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url

__all__ = ["postgres_url", "settings", "sqlite_store", "store", "store_url"]
