"""A group of checked log batches written in a few statements (`vigil.store.window_groups`),
when nothing in it can fail on its own.

`write_together` claims every batch id in one statement, counts each window once for all the
group's uploads to it and appends every part in one statement. It applies when each batch is
profiles only (no rows: a row file can fail on its own) and every window they go to exists and
keeps its column kinds. It checks each upload's columns against its window's kinds, in the
group's order, as the batches written one by one would. A batch refused by that check would need
its own answer (409) while the others are kept, so then the whole group is left to the
savepoint-per-batch path (`GroupCommit`), which gives it. So is a group with a new window, whose
first upload creates it.

The answers are the ones the batches written one by one in the group's order would get: the
first of a repeated batch id writes, the others are duplicates that wrote nothing; each upload
takes its window's next upload count, and the batch whose count is a multiple of FOLD_EVERY
folds the window after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.api.specs import IngestResult
from vigil.errors import SchemaConflictError
from vigil.ingestion import service
from vigil.ingestion.checks import CheckedLog
from vigil.profile import DatasetProfile
from vigil.store.profile_windows import WindowRepository, count_uploads
from vigil.store.window_groups import add_parts, claim_batches
from vigil.store.window_kinds import Kind, combine, decode, encode, kinds_of

__all__ = ["write_together"]

WindowKey = tuple[int, str, str, dt.datetime]
"""A window's model id, version, segment and start."""


@dataclass
class _Window:
    """A window's uploads in the group, in the group's order."""

    end: dt.datetime
    uploads: list[tuple[int, int]] = field(default_factory=list)
    """(batch position in the group, profile index in the batch)."""


def write_together(
    session: Session, group: Sequence[CheckedLog], arrival: dt.datetime
) -> list[tuple[IngestResult, list[int]]] | None:
    """Each batch's answer and the windows it folds after the commit, in `group`'s order, with
    their writes in the session's transaction (not committed); or None when the group must be
    written batch by batch (see the module docstring): then the transaction may hold some of its
    writes, and the caller rolls it back."""
    if any(checked.rows is not None for checked in group):
        return None
    connection = session.connection()
    firsts: dict[str, int] = {}
    for position, checked in enumerate(group):
        firsts.setdefault(checked.batch.batch_id, position)
    claims = [
        (batch_id, group[position].model_id, group[position].result.n_rows)
        for batch_id, position in firsts.items()
    ]
    claimed = claim_batches(connection, claims, "log", arrival)
    writing = [position for batch_id, position in firsts.items() if batch_id in claimed]
    windows: dict[WindowKey, _Window] = {}
    for position in sorted(writing):
        checked = group[position]
        for index, (profile, segment) in enumerate(
            zip(checked.profiles, checked.segments, strict=True)
        ):
            assert profile.window is not None
            key = (checked.model_id, checked.batch.version, segment, profile.window.start)
            window = windows.setdefault(key, _Window(profile.window.end))
            window.end = max(window.end, profile.window.end)
            window.uploads.append((position, index))
    to_fold: dict[int, list[int]] = {position: [] for position in writing}
    parts: list[tuple[int, int, bytes]] = []
    # Windows in one order (model, start, segment, version), so two groups never wait on each
    # other's window rows.
    for key in sorted(windows, key=lambda k: (k[0], k[3], k[2], k[1])):
        window = windows[key]
        n_rows = sum(group[p].profiles[i].n_rows for p, i in window.uploads)
        model_id, version, segment, start = key
        counted = count_uploads(
            connection,
            {"model_id": model_id, "version": version, "segment": segment, "start": start},
            uploads=len(window.uploads),
            n_rows=n_rows,
            end=window.end,
            arrival=arrival,
        )
        if counted is None:
            return None  # a new window: its first upload creates it
        kinds = _kinds_after(counted.kinds, [group[p].profiles[i] for p, i in window.uploads])
        if kinds is None:
            return None
        if kinds != counted.kinds:
            WindowRepository(session).set_kinds(counted.window_id, kinds)
        first = counted.n_uploads - len(window.uploads) + 1
        for count, (position, index) in enumerate(window.uploads, start=first):
            profile = group[position].profiles[index]
            parts.append((counted.window_id, profile.n_rows, group[position].batch.profiles[index]))
            if count % service.FOLD_EVERY == 0:
                to_fold[position].append(counted.window_id)
    add_parts(connection, parts, arrival)
    outcomes: list[tuple[IngestResult, list[int]]] = []
    for position, checked in enumerate(group):
        if position in to_fold:
            outcomes.append((checked.result, to_fold[position]))
        else:
            outcomes.append((checked.result.model_copy(update={"duplicate": True}), []))
    return outcomes


def _kinds_after(stored: str | None, profiles: Sequence[DatasetProfile]) -> str | None:
    """The window's kinds (encoded) once `profiles` are merged into it in order; None when it
    keeps none or one of them conflicts with it (the batch-by-batch path answers those)."""
    known = decode(stored)
    if known is None:
        return None
    merged: dict[str, Kind] = known
    try:
        for profile in profiles:
            merged = combine(merged, kinds_of(profile))
    except SchemaConflictError:
        return None
    return stored if merged == known else encode(merged)
