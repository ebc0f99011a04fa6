from __future__ import annotations

from tests.server.conftest import api, server_store, tokens
from tests.store.conftest import postgres_url, store, store_url

__all__ = ["api", "postgres_url", "server_store", "store", "store_url", "tokens"]
