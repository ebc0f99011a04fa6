"""/api/v1/monitors and /api/v1/channels; the monitor scheduler runs in this router's lifespan."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from vigil.errors import InvalidInputError
from vigil.events.channels import redact_channel
from vigil.events.channels.definitions import Channel
from vigil.monitor import api
from vigil.monitor.definitions import Monitor
from vigil.monitor.evaluate import backfill
from vigil.monitor.results import WindowResult
from vigil.server.deps import AdminAccess, ReadAccess, SettingsDep, StoreDep, WriteAccess
from vigil.server.outbound import OutboundPolicyDep

logger = logging.getLogger("vigil.server")


router = APIRouter(tags=["monitors"])
Name = Annotated[str, Path(max_length=200)]


class ApplyIn(BaseModel):
    yaml: str = Field(max_length=1 << 20, description="A monitors file (channels and monitors).")
    dry_run: bool = False
    prune: bool = True


class RunIn(BaseModel):
    start: dt.datetime
    end: dt.datetime
    monitors: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=1000, description="Only these monitors (default: all)."
    )


class RunOut(BaseModel):
    evaluated: int
    breached: int
    results: list[dict[str, Any]]


@router.get("/api/v1/monitors")
def list_monitors(
    _: ReadAccess,
    store: StoreDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> list[Monitor]:
    """The monitors; `actor=`: those this person created or last changed."""
    return api.list_monitors(store, actor=actor)


@router.get("/api/v1/monitors/{name}")
def get_monitor(_: ReadAccess, store: StoreDep, name: Name) -> Monitor:
    return api.get_monitor(store, name)


@router.put("/api/v1/monitors/{name}")
def put_monitor(
    principal: WriteAccess, store: StoreDep, name: Name, monitor: Monitor
) -> api.Change:
    """Create or replace a monitor (its channels must exist)."""
    if monitor.name != name:
        raise InvalidInputError(f"the body names monitor {monitor.name!r}, the path {name!r}")
    return api.save_monitor(store, monitor, actor=principal.actor)


@router.delete("/api/v1/monitors/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_monitor(principal: WriteAccess, store: StoreDep, name: Name) -> None:
    api.delete_monitor(store, name, actor=principal.actor)


@router.post("/api/v1/monitors/apply")
def apply_file(
    principal: AdminAccess, store: StoreDep, body: ApplyIn, policy: OutboundPolicyDep
) -> api.Plan:
    """Apply a monitors file (it may define channels, which send requests out: admin only;
    their addresses must pass the outbound policy)."""
    return api.apply(
        store,
        body.yaml,
        dry_run=body.dry_run,
        prune=body.prune,
        actor=principal.actor,
        policy=policy,
    )


@router.post("/api/v1/monitors/run")
def run_monitors(_: WriteAccess, store: StoreDep, settings: SettingsDep, body: RunIn) -> RunOut:
    """Evaluate every closed window in [start, end) (a backfill); notifications are queued.

    At most `VIGIL_BACKFILL_MAX_WINDOWS` (monitor, window) evaluations per request, each window
    in its own short transaction; a larger range is a 422 (`vigil monitors run` has no limit).
    """
    start, end = (t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (body.start, body.end))
    if end <= start:
        raise InvalidInputError(
            f"end ({end.isoformat()}) must be after start ({start.isoformat()})"
        )
    results: list[WindowResult] = backfill(
        store, start, end, monitors=body.monitors, max_windows=settings.backfill_max_windows
    )
    return RunOut(
        evaluated=len(results),
        breached=sum(r.breached for r in results),
        results=[
            {
                "monitor": r.monitor,
                "window_start": r.window_start,
                "value": r.value,
                "lower": r.lower,
                "upper": r.upper,
                "breached": r.breached,
                "message": r.message,
            }
            for r in results
        ],
    )


@router.get("/api/v1/channels")
def list_channels(_: ReadAccess, store: StoreDep) -> list[dict[str, Any]]:
    """The channels with their secrets hidden (URL paths and queries, secrets, header values,
    passwords, routing keys): `***set***` says a secret is set, never what it is."""
    return [redact_channel(c).model_dump(mode="json") for c in api.list_channels(store)]


@router.put("/api/v1/channels/{name}")
def put_channel(
    principal: AdminAccess, store: StoreDep, name: Name, channel: Channel, policy: OutboundPolicyDep
) -> api.Change:
    """Create or replace a channel. Its address must pass the outbound policy (422 naming the
    rule); secrets left out, or sent back as shown (`***set***`, the masked URL), are kept."""
    if channel.name != name:
        raise InvalidInputError(f"the body names channel {channel.name!r}, the path {name!r}")
    return api.save_channel(store, channel, actor=principal.actor, policy=policy)


@router.delete("/api/v1/channels/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(_: AdminAccess, store: StoreDep, name: Name) -> None:
    api.delete_channel(store, name)
