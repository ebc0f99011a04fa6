from __future__ import annotations

from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url

__all__ = ["postgres_url", "store", "store_url"]
