"""A model's retention policy (`vigil.ingestion.retention`): read with a read token, replaced with
an admin token (a shorter policy deletes history), recorded as set by the token's owner."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.api.retention import RetentionIn, RetentionOut
from vigil.ingestion import retention, service
from vigil.server.deps import AdminAccess, ReadAccess, SessionDep

router = APIRouter(tags=["models"])


@router.get("/api/v1/models/{name}/retention")
def get_retention(_: ReadAccess, name: str, session: SessionDep) -> RetentionOut:
    """The model's retention policy; every field null (keep for ever) when none was set."""
    return service.read_only(session, lambda s: retention.get_policy(s, name))


@router.put("/api/v1/models/{name}/retention")
def put_retention(
    principal: AdminAccess, name: str, policy: RetentionIn, session: SessionDep
) -> RetentionOut:
    """Replace the model's retention policy (a field left out or null keeps for ever). The
    server's retention worker and `vigil db compact` apply it."""
    return retention.set_policy(session, name, policy, actor=principal.actor)
