"""Reading stored window profiles: complete, consistent, and so that one undecodable window never
breaks its reader.

A stored window's profile is its `profile` blob (the uploads folded so far) merged with its parts
(uploads appended since, `ProfileWindowPart`). `load_stored` reads both in ONE statement, so a
compaction committing meanwhile (which folds parts into the blob and deletes them in one
transaction) can neither hide parts nor count them twice, on PostgreSQL's READ COMMITTED too.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, literal, select, union_all
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CompoundSelect

from vigil.errors import SerializationError
from vigil.profile import DatasetProfile
from vigil.profile.trust import decoded as checked_profile
from vigil.store.models import MonitoredModel, ProfileWindow, ProfileWindowPart

logger = logging.getLogger("vigil.store")

SESSION_KEY = "vigil.undecodable_windows"
"""Where a Store's sessions carry its `UndecodableWindows` (`Session.info`)."""

_ATTACHED = "_vigil_stored"
"""The (not mapped) attribute on which `WindowRepository.list` leaves a window's `StoredProfile`."""

_CHUNK = 500


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
    """One stored window's profile bytes (its folded blob and its pending parts' blobs) and where
    they are stored (for the log line)."""

    model_id: int
    start: dt.datetime
    blob: bytes = field(repr=False)
    version: str = ""
    segment: str = ""
    parts: tuple[bytes, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, window: ProfileWindow) -> StoredProfile:
        """The window's complete profile bytes: as `WindowRepository.list` read them with the
        window, else read now (one statement: blob and parts of one moment)."""
        attached = getattr(window, _ATTACHED, None)
        if isinstance(attached, StoredProfile):
            return attached
        session = object_session(window)
        if session is not None:
            found = load_stored(session, [window.id])
            if window.id in found:
                return found[window.id].stored(window)
        return cls(window.model_id, window.start, window.profile, window.version, window.segment)


class WindowBlobs(NamedTuple):
    """A window's blob and pending parts as one statement read them."""

    n_uploads: int
    blob: bytes
    part_ids: tuple[int, ...]
    parts: tuple[bytes, ...]

    def stored(self, window: ProfileWindow) -> StoredProfile:
        return StoredProfile(
            window.model_id, window.start, self.blob, window.version, window.segment, self.parts
        )


def _blobs_statement() -> CompoundSelect[int, int, int, bytes]:
    """A window's blob and its parts, for the window ids bound to `ids`: built once, on the
    tables (Core), as a tick reads windows for every model and the compactor for every fold."""
    windows = ProfileWindow.__table__.c
    parts = ProfileWindowPart.__table__.c
    ids: BindParameter[int] = bindparam("ids", expanding=True)
    heads = select(
        windows.id.label("window_id"),
        windows.n_uploads.label("n_uploads"),
        literal(0, Integer).label("part_id"),
        windows.profile.label("blob"),
    ).where(windows.id.in_(ids))
    pending = select(parts.window_id, literal(0, Integer), parts.id, parts.profile).where(
        parts.window_id.in_(ids)
    )
    return union_all(heads, pending)


_BLOBS = _blobs_statement()


def load_stored(session: Session, window_ids: Iterable[int]) -> dict[int, WindowBlobs]:
    """Each window's blob, upload count and pending parts (oldest first), by window id; a window
    and its parts are read by one statement, so the result is one committed state of them."""
    ids = list(dict.fromkeys(window_ids))
    found: dict[int, WindowBlobs] = {}
    for i in range(0, len(ids), _CHUNK):
        heads: dict[int, tuple[int, bytes]] = {}
        parts: dict[int, list[tuple[int, bytes]]] = {}
        for window_id, n_uploads, part_id, blob in session.execute(
            _BLOBS, {"ids": ids[i : i + _CHUNK]}
        ):
            if part_id:
                parts.setdefault(window_id, []).append((part_id, blob))
            else:
                heads[window_id] = (n_uploads, blob)
        for window_id, (n_uploads, blob) in heads.items():
            pending = sorted(parts.get(window_id, ()))
            found[window_id] = WindowBlobs(
                n_uploads, blob, tuple(p for p, _ in pending), tuple(b for _, b in pending)
            )
    return found


def attach_stored(session: Session, windows: Sequence[ProfileWindow]) -> None:
    """Read the windows' complete profile bytes (`load_stored`) and leave them on the windows for
    `StoredProfile.of` (a window deleted meanwhile keeps its own blob and no parts)."""
    found = load_stored(session, [w.id for w in windows])
    for window in windows:
        blobs = found.get(window.id)
        stored = (
            blobs.stored(window)
            if blobs is not None
            else StoredProfile(window.model_id, window.start, b"", window.version, window.segment)
        )
        setattr(window, _ATTACHED, stored)


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
    """The window's profile (its blob merged with its parts), or None when nothing of it decodes;
    a blob or part that does not decode is logged, counted and left out."""
    decoded: list[DatasetProfile] = []
    for index, blob in enumerate((stored.blob, *stored.parts)):
        if not blob:  # a window deleted while it was read: no data, nothing broken
            continue
        kept = checked_profile(blob)  # an upload this process checked a moment ago
        if isinstance(kept, DatasetProfile):
            decoded.append(kept)
            continue
        try:
            decoded.append(DatasetProfile.from_bytes(blob))
        except SerializationError as exc:
            logger.warning(
                "stored window of model id %s starting %s (version %r, segment %r) cannot be "
                "decoded and is skipped: %s",
                stored.model_id,
                stored.start.isoformat(),
                stored.version,
                stored.segment,
                (f"part {index}: " if index else "") + exc.message,
            )
            if tally is not None:
                tally.add(stored.model_id)
    if not decoded:
        return None
    return decoded[0] if len(decoded) == 1 else DatasetProfile.merge_all(decoded)


def merge_stored(
    windows: Iterable[StoredProfile | ProfileWindow], tally: UndecodableWindows | None
) -> DatasetProfile:
    """The merge of the windows' profiles, in the given order, skipping undecodable ones."""
    decoded = (
        decode_stored(w if isinstance(w, StoredProfile) else StoredProfile.of(w), tally)
        for w in windows
    )
    return DatasetProfile.merge_all(p for p in decoded if p is not None)
