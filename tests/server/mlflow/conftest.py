from __future__ import annotations

from tests.e2e.conftest import admin_token, clean_store_url, live, shared_live, shared_token
from tests.store.conftest import postgres_url, store_url

__all__ = [
    "admin_token",
    "clean_store_url",
    "live",
    "postgres_url",
    "shared_live",
    "shared_token",
    "store_url",
]
