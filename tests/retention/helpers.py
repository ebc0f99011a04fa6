"""A model with an hourly history to roll up: its traffic is kept, so tests compare the store's
figures with exact ones computed from the rows. Monitors, their results and alerts, written
straight into the store for what retention deletes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from sqlalchemy import insert

import vigil
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch, table_to_ipc
from vigil.ingestion import service
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertEventRow, AlertRow, MonitorResultRow, MonitorRow

HOUR = dt.timedelta(hours=1)
START = dt.datetime(2026, 10, 30, 0, 0, tzinfo=dt.UTC)
"""Two days before a month ends: the history crosses a month's bound."""

SPEC = ModelSpec(
    name="fraud",
    features=["amount", "user"],
    predictions=["label"],
    scores=["proba"],
    id_column="request_id",
    timestamp_column="ts",
)


@dataclass
class History:
    """Every row logged, per window start."""

    rows: dict[dt.datetime, pa.Table] = field(default_factory=dict)

    def table(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pa.Table:
        chosen = [
            t
            for s, t in sorted(self.rows.items())
            if (start is None or s >= start) and (end is None or s < end)
        ]
        return pa.concat_tables(chosen)


def hour_table(start: dt.datetime, n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.integers(0, 3600 * 10**6, n))
    ts = pa.array(
        np.datetime64(start.replace(tzinfo=None), "us") + offsets.astype("timedelta64[us]"),
        pa.timestamp("us", tz="UTC"),
    )
    proba = rng.random(n)
    return pa.table(
        {
            "request_id": [f"{start:%Y%m%d%H}-{seed}-{i}" for i in range(n)],
            "ts": ts,
            "amount": rng.lognormal(3, 1, n),
            "user": [f"u{k}" for k in rng.integers(0, 20_000, n)],
            "label": (proba > 0.5).astype(np.int64),
            "proba": proba,
        }
    )


def batch(table: pa.Table, start: dt.datetime, version: str = "v1") -> LogBatch:
    profile = vigil.profile(table.select(["amount", "user", "label", "proba"]))
    profile = profile.with_window(start, start + HOUR)
    rows = pa.table(
        {
            ID_COLUMN: table["request_id"],
            TIMESTAMP_COLUMN: table["ts"],
            "label": table["label"],
            "proba": table["proba"],
        }
    )
    return LogBatch(version=version, profiles=[profile.to_bytes()], rows=table_to_ipc(rows))


def log_hours(
    store: Store,
    hours: int,
    *,
    start: dt.datetime = START,
    rows: int = 50,
    uploads: int = 1,
    seed: int = 0,
    history: History | None = None,
    version: str = "v1",
) -> History:
    """Log `uploads` batches of `rows` rows into each of `hours` hourly windows from `start`."""
    history = history or History()
    with store.session() as session:
        service.create_model(session, SPEC)
    for h in range(hours):
        at = start + h * HOUR
        for u in range(uploads):
            table = hour_table(at, rows, seed * 1_000_003 + h * 101 + u)
            with store.session() as session:
                service.ingest_log(session, store.predictions, SPEC.name, batch(table, at, version))
            previous = history.rows.get(at)
            history.rows[at] = table if previous is None else pa.concat_tables([previous, table])
    return history


def add_monitor(
    store: Store,
    name: str,
    model: str,
    *,
    results: int = 0,
    start: dt.datetime = START,
    grace: str = "P1D",
) -> int:
    """An hourly volume monitor of `model` with `results` results, one per hour from `start`."""
    definition = {
        "name": name,
        "kind": "volume",
        "target": {"model": model},
        "window": "hour",
        "grace": grace,
    }
    with store.session() as session:
        row = MonitorRow(
            name=name,
            definition=definition,
            created_at=start,
            updated_at=start,
            evaluated_until=start + results * HOUR if results else None,
        )
        session.add(row)
        session.flush()
        if results:
            session.execute(
                insert(MonitorResultRow),
                [
                    {
                        "monitor_id": row.id,
                        "window_start": start + i * HOUR,
                        "window_end": start + (i + 1) * HOUR,
                        "value": float(i),
                        "breached": False,
                        "message": "",
                        "details": {},
                        "evaluated_at": start + (i + 1) * HOUR,
                    }
                    for i in range(results)
                ],
            )
        session.commit()
        return row.id


def add_alert(
    store: Store,
    monitor_id: int,
    state: str,
    resolved: dt.datetime | None,
    *,
    first: dt.datetime = START,
    hours: int = 0,
    events: tuple[str, ...] = ("opened",),
) -> int:
    """An alert of `monitor_id` over `hours` hours from `first`, with one history entry per
    event in `events`."""
    with store.session() as session:
        alert = AlertRow(
            monitor_id=monitor_id,
            monitor_name="m",
            target=SPEC.name,
            kind="volume",
            severity="warning",
            state=state,
            message="",
            first_window_start=first,
            last_window_start=first + hours * HOUR,
            details={},
            opened_at=first,
            updated_at=first,
            resolved_at=resolved,
        )
        session.add(alert)
        session.flush()
        for event in events:
            session.add(
                AlertEventRow(
                    alert_id=alert.id,
                    at=first,
                    event=event,
                    state="open" if event == "opened" else state,
                    actor="test",
                )
            )
        session.commit()
        return alert.id
