"""Small reads shared by several pages, each a call of the service the API route calls (in a
read-only transaction): a model, its windows without their profiles, the span of its traffic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from vigil.api.specs import ModelOut, WindowOut
from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.store.core import Store

T = TypeVar("T")


def read(store: Store, action: Callable[[Session], T]) -> T:
    """`action(session)` in a transaction that is rolled back (reads hold no lock afterwards)."""
    with store.read_session() as session:
        return ingestion.read_only(session, action)


def model_of(store: Store, name: str) -> ModelOut:
    """The monitored model `name` (NotFoundError naming it, as the API's)."""
    return read(store, lambda s: ingestion.get_model(s, name))


def latest_start(store: Store, name: str) -> dt.datetime | None:
    return read(store, lambda s: queries.latest_start(s, name))


def window_rows(store: Store, name: str, start: dt.datetime | None = None) -> list[WindowOut]:
    """The model's windows (every version, the whole traffic), oldest first, without profiles."""
    return read(store, lambda s: ingestion.list_windows(s, name, start=start))


def daily_rows(rows: list[WindowOut]) -> list[tuple[dt.datetime, int]]:
    """Rows per day of `rows`, oldest first."""
    days: dict[dt.datetime, int] = {}
    for row in rows:
        day = row.start.replace(hour=0, minute=0, second=0, microsecond=0)
        days[day] = days.get(day, 0) + row.n_rows
    return sorted(days.items())


def compared_columns(model: ModelOut) -> list[str]:
    """The columns whose drift and statistics the pages show."""
    return [*model.features, *model.scores, *model.predictions]
