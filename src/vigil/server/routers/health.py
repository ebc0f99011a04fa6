from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from vigil.server.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> dict[str, Any]:
    """Liveness and store reachability; needs no token (load balancers call it)."""
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "store": store.engine.dialect.name}
