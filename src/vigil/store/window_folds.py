"""Folding a window's parts into its profile: the compactor's work (`vigil.ingestion.compactor`),
an upload's fold every FOLD_EVERY uploads, and `vigil db compact`'s. A fold reads the window's
blob and parts, merges them with no transaction open, then applies the result in a short
transaction that stores it only if the blob is still the one merged (`apply_fold`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from vigil.errors import ConflictError
from vigil.store.db import reader_beside
from vigil.store.models import ProfileWindow, ProfileWindowPart
from vigil.store.stored_profiles import (
    StoredProfile,
    UndecodableWindows,
    decode_stored,
    load_stored,
    tally_of,
)

_WINDOWS = cast(Table, ProfileWindow.__table__).c
# The fold's statements (the compactor runs them for every window it folds), on the tables: Core
# statements built once run without the ORM's per-statement work, which cost more than SQLite's.
_PARTS_TABLE = cast(Table, ProfileWindowPart.__table__)
_PARTS = _PARTS_TABLE.c
_WINDOW_TABLE = cast(Table, ProfileWindow.__table__)
_FOLDED_IDS: BindParameter[int] = bindparam("part_ids", expanding=True)
_WINDOW_KEY = select(_WINDOWS.model_id, _WINDOWS.start, _WINDOWS.version, _WINDOWS.segment).where(
    _WINDOWS.id == bindparam("f_id")
)
# Locks the window row (on SQLite the transaction holds the write lock) only if its blob is still
# the one merged (see `apply_fold`).
_LOCK_UNCHANGED = (
    update(_WINDOW_TABLE)
    .where((_WINDOWS.id == bindparam("f_id")) & (_WINDOWS.profile == bindparam("f_old")))
    .values(n_uploads=_WINDOWS.n_uploads)
    .returning(_WINDOWS.id)
)
_COUNT_FOLDED = select(func.count()).where(_PARTS.id.in_(_FOLDED_IDS))
_STORE_FOLD = (
    update(_WINDOW_TABLE)
    .where(_WINDOWS.id == bindparam("f_id"))
    .values(profile=bindparam("f_new", type_=_WINDOWS.profile.type))
)
_DELETE_FOLDED = delete(_PARTS_TABLE).where(_PARTS.id.in_(_FOLDED_IDS))


PARTS_PER_FOLD = 500
"""At most this many parts are folded by one `fold_window` (bounded memory and statement size)."""


@dataclass(frozen=True)
class Fold:
    """A window's folded profile, computed from one committed state of its blob and parts."""

    window_id: int
    old: bytes = field(repr=False)
    new: bytes = field(repr=False)
    part_ids: tuple[int, ...]
    complete: bool
    """Whether these were all of the window's pending parts when read."""


@dataclass(frozen=True)
class PendingParts:
    """A window's blob and (the oldest `PARTS_PER_FOLD`) pending parts, as one statement read
    them."""

    window_id: int
    stored: StoredProfile
    part_ids: tuple[int, ...]
    complete: bool
    """Whether these were all of the window's pending parts when read."""


def read_parts(session: Session, window_id: int) -> PendingParts | None:
    """The window's blob and pending parts (None: it has none, or no longer exists)."""
    blobs = load_stored(session, [window_id]).get(window_id)
    if blobs is None or not blobs.parts:
        return None
    window = session.connection().execute(_WINDOW_KEY, {"f_id": window_id}).first()
    if window is None:
        return None
    model_id, start, version, segment = window
    parts = blobs.parts[:PARTS_PER_FOLD]
    return PendingParts(
        window_id,
        StoredProfile(model_id, start, blobs.blob, version, segment, parts),
        blobs.part_ids[: len(parts)],
        len(parts) == len(blobs.parts),
    )


def merge_parts(pending: PendingParts, tally: UndecodableWindows | None) -> Fold | None:
    """The fold of `pending` (None when nothing of it decodes). Pure computation: it can run
    outside any transaction (on SQLite a write transaction holds the write lock)."""
    merged = decode_stored(pending.stored, tally)
    if merged is None:
        return None
    return Fold(
        pending.window_id,
        pending.stored.blob,
        merged.to_bytes(),
        pending.part_ids,
        pending.complete,
    )


def prepare_fold(session: Session, window_id: int) -> Fold | None:
    """`read_parts` and `merge_parts` in the session's transaction."""
    pending = read_parts(session, window_id)
    return merge_parts(pending, tally_of(session)) if pending is not None else None


def apply_fold(session: Session, fold: Fold) -> int:
    """Store `fold` in the session's transaction: the window's profile becomes the merged one and
    exactly the folded parts are deleted. Returns how many parts were folded, or 0 (and changes
    nothing) when another fold changed the window since `fold` was read.

    Why this is exact: the first UPDATE locks the window row (on SQLite the transaction holds the
    write lock) only if its blob is still the one merged; under that lock no other fold can run
    on the window, and every part merged must still exist. Blob unchanged and parts present means
    blob + parts is still the window's content, so nothing is lost or counted twice. Uploads
    appending parts meanwhile are untouched: only the merged parts' ids are deleted.
    """
    connection = session.connection()
    locked = connection.execute(
        _LOCK_UNCHANGED, {"f_id": fold.window_id, "f_old": fold.old}
    ).first()
    if locked is None:
        return 0
    ids = {"part_ids": list(fold.part_ids)}
    if connection.execute(_COUNT_FOLDED, ids).scalar_one() != len(fold.part_ids):
        return 0
    connection.execute(_STORE_FOLD, {"f_id": fold.window_id, "f_new": fold.new})
    connection.execute(_DELETE_FOLDED, ids)
    return len(fold.part_ids)


def fold_committed(session: Session, window_id: int) -> int | None:
    """Fold the window's (oldest `PARTS_PER_FOLD`) parts in transactions of their own: read in
    a read session (on SQLite it does not hold the write lock), merge with no transaction open,
    apply and commit. Returns the parts folded, or None when there was nothing to fold; 0 when
    another fold changed the window meanwhile (nothing changed: try again later)."""
    with reader_beside(session) as reader:
        try:
            pending = read_parts(reader, window_id)
        finally:
            reader.rollback()
    fold = merge_parts(pending, tally_of(session)) if pending is not None else None
    if fold is None:
        return None
    try:
        done = apply_fold(session, fold)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return done


def fold_window(session: Session, window_id: int, *, attempts: int = 5) -> int:
    """Fold all of the window's pending parts into its profile in the session's transaction (the
    caller commits); returns how many. A fold that raced another one is read and tried again."""
    folded = 0
    for _ in range(attempts):
        fold = prepare_fold(session, window_id)
        if fold is None:
            return folded
        done = apply_fold(session, fold)
        folded += done
        if done and fold.complete:
            return folded
    raise ConflictError(
        f"window id {window_id} kept changing while its parts were folded ({attempts} attempts)"
    )


def windows_with_parts(
    session: Session,
    *,
    model_id: int | None = None,
    before: dt.datetime | None = None,
    min_parts: int = 1,
    older_than: dt.datetime | None = None,
    limit: int | None = None,
) -> list[int]:
    """Ids of windows with pending parts (most parts first): of one model, starting before
    `before`, with at least `min_parts` parts or (when `older_than` is given) a part added
    before it."""
    # On the tables' columns (Core), not the mapped classes: the compactor runs this every round.
    count = func.count(_PARTS.id)
    query = select(_PARTS.window_id).group_by(_PARTS.window_id)
    if model_id is not None or before is not None:
        query = query.join(_WINDOW_TABLE, _WINDOWS.id == _PARTS.window_id)
    if model_id is not None:
        query = query.where(_WINDOWS.model_id == model_id)
    if before is not None:
        query = query.where(_WINDOWS.start < before)
    enough = count >= min_parts
    if older_than is not None:
        enough = or_(enough, func.min(_PARTS.created_at) < older_than)
    query = query.having(enough).order_by(count.desc(), _PARTS.window_id).limit(limit)
    return list(session.connection().execute(query).scalars())


def fold_parts(session: Session, model_id: int, *, before: dt.datetime | None = None) -> int:
    """Fold the pending parts of the model's windows that start before `before` (all windows when
    None) into their profiles, in the session's transaction (the caller commits); returns how many
    parts were folded. Afterwards (until new uploads arrive) each such window's `profile` column
    alone is its complete profile, e.g. for rolling windows up."""
    return sum(
        fold_window(session, window_id)
        for window_id in windows_with_parts(session, model_id=model_id, before=before)
    )
