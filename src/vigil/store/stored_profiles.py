"""Reading stored window profiles so that one undecodable window never breaks its reader.

Every reader of stored window profiles (window lists and merges, monitor ticks, the dashboard and
its warmer, ingestion merging into a window) decodes through `decode_stored`: a window whose bytes
fail to decode is logged (model, window start, version, segment and the reason), counted in the
store's `UndecodableWindows` (exported at /metrics as `vigil_undecodable_windows_total`) and
skipped, instead of raising into a request, the scheduler or the warmer.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import SerializationError
from vigil.profile import DatasetProfile
from vigil.store.models import MonitoredModel, ProfileWindow

logger = logging.getLogger("vigil.store")

SESSION_KEY = "vigil.undecodable_windows"
"""Where a Store's sessions carry its `UndecodableWindows` (`Session.info`)."""


class UndecodableWindows:
    """How many reads of a stored window failed to decode, per model id, since the store was
    opened (a window read by several readers counts once per read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}

    def add(self, model_id: int) -> None:
        with self._lock:
            self._counts[model_id] = self._counts.get(model_id, 0) + 1

    def counts(self) -> dict[int, int]:
        with self._lock:
            return dict(self._counts)


@dataclass(frozen=True)
class StoredProfile:
    """One stored window's profile bytes and where they are stored (for the log line)."""

    model_id: int
    start: dt.datetime
    blob: bytes = field(repr=False)
    version: str = ""
    segment: str = ""

    @classmethod
    def of(cls, window: ProfileWindow) -> StoredProfile:
        return cls(window.model_id, window.start, window.profile, window.version, window.segment)


def tally_of(session: Session) -> UndecodableWindows | None:
    """The counter of the store that opened `session` (None for a session of no Store)."""
    tally = session.info.get(SESSION_KEY)
    return tally if isinstance(tally, UndecodableWindows) else None


def undecodable_by_model(session: Session) -> dict[str, int]:
    """Undecodable windows per model name, for /metrics (deleted models keep their id)."""
    tally = tally_of(session)
    counts = tally.counts() if tally is not None else {}
    if not counts:
        return {}
    rows = session.execute(
        select(MonitoredModel.id, MonitoredModel.name).where(MonitoredModel.id.in_(counts))
    )
    names = {model_id: name for model_id, name in rows}
    return {names.get(model_id, f"#{model_id}"): n for model_id, n in counts.items()}


def decode_stored(stored: StoredProfile, tally: UndecodableWindows | None) -> DatasetProfile | None:
    """The window's profile, or None (logged and counted) when its bytes do not decode."""
    try:
        return DatasetProfile.from_bytes(stored.blob)
    except SerializationError as exc:
        logger.warning(
            "stored window of model id %s starting %s (version %r, segment %r) cannot be "
            "decoded and is skipped: %s",
            stored.model_id,
            stored.start.isoformat(),
            stored.version,
            stored.segment,
            exc.message,
        )
        if tally is not None:
            tally.add(stored.model_id)
        return None


def merge_stored(
    windows: Iterable[StoredProfile | ProfileWindow], tally: UndecodableWindows | None
) -> DatasetProfile:
    """The merge of the windows' profiles, in the given order, skipping undecodable ones."""
    decoded = (
        decode_stored(w if isinstance(w, StoredProfile) else StoredProfile.of(w), tally)
        for w in windows
    )
    return DatasetProfile.merge_all(p for p in decoded if p is not None)
