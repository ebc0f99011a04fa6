"""Store maintenance: compacting the per-upload prediction and label files (`vigil db compact`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from vigil.ingestion import service
from vigil.store.core import Store
from vigil.store.predictions import Kind


@dataclass(frozen=True)
class Compaction:
    model: str
    kind: Kind
    day: dt.date
    files: int


def compact(
    store: Store, *, before: dt.date, models: Sequence[str] | None = None
) -> tuple[list[Compaction], int]:
    """Compact every day before `before` (one file per model, kind and day).

    First deletes the files that earlier runs superseded (so readers had a run's time to finish
    with them). Returns what was compacted and how many files were deleted.
    """
    with store.session() as session:
        names = list(models) if models else [m.name for m in service.list_models(session)]
    done: list[Compaction] = []
    deleted = 0
    for name in names:
        for kind in get_args(Kind):
            with store.session() as session:
                deleted += service.collect_garbage(session, store.predictions, name, kind)
                model_id = service.model_id(session, name)
                session.rollback()
            days = sorted({key.split("/")[2] for key in store.predictions.files(kind, model_id)})
            for text in days:
                day = dt.date.fromisoformat(text)
                if day >= before:
                    continue
                with store.session() as session:
                    merged = service.compact_day(session, store.predictions, name, day, kind)
                if merged:
                    done.append(Compaction(name, kind, day, merged))
    return done, deleted
