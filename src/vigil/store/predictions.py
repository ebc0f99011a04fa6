"""Predictions and labels: append-only Parquet files per model and day, queried with DuckDB.

Each upload becomes one file per day it touches, named by its batch id
(`predictions/m<model id>/<YYYY-MM-DD>/<batch id>.parquet`), so a retried upload rewrites the same
file instead of adding rows twice. Labels arrive later (delayed ground truth) in `labels/...` and
are joined to predictions by id; the latest label of an id wins.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.api.specs import DailyVolume
from vigil.schema import ID_COLUMN, LABEL_COLUMN, TIMESTAMP_COLUMN
from vigil.store.artifacts import ArtifactStore

Kind = Literal["predictions", "labels"]
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
ZSTD_FROM_ROWS = 1000
"""Files of at least this many rows are written with zstd, dictionary pages and column
statistics; smaller ones (a small `client.log` call's rows) plainly: zstd's set-up doubles the
cost of writing a few rows (0.73 against 0.36 ms for 10 rows), and compression, dictionaries and
statistics together cost a third of the rest, for a file that holds a few hundred bytes and that
no query could skip. Compaction rewrites a day's files as one, with all of them."""


def _parquet_options(n_rows: int) -> dict[str, object]:
    if n_rows >= ZSTD_FROM_ROWS:
        return {"compression": "zstd"}
    return {"compression": "none", "use_dictionary": False, "write_statistics": False}


def _day_range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[str, str]:
    low = start.astimezone(dt.UTC).date().isoformat() if start else "0000-00-00"
    high = end.astimezone(dt.UTC).date().isoformat() if end else "9999-99-99"
    return low, high


ClaimedFilter = Callable[[Sequence[str]], set[str]]


class PredictionStore:
    """Append and query the prediction and label rows of monitored models.

    `claimed` returns which of the given batch ids the metadata store has recorded. Queries read
    only files of recorded batches, so a file written by an upload whose transaction never
    committed (the server was killed in between) is invisible until its retry commits.
    """

    def __init__(self, artifacts: ArtifactStore, claimed: ClaimedFilter | None = None) -> None:
        self.artifacts = artifacts
        self.claimed = claimed

    def append(self, kind: Kind, model_id: int, batch_id: str, table: pa.Table) -> list[str]:
        """Write `table` (which has a UTC `vigil_timestamp` column) as one file per day."""
        if table.num_rows == 0:
            return []
        days = pc.cast(table[TIMESTAMP_COLUMN], pa.date32())
        keys = []
        distinct = pc.unique(days).to_pylist()
        for day in distinct:
            # One day (a small call's rows, usually): the table is that day's file as it is.
            one = len(distinct) == 1
            part = table if one else table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
            sink = pa.BufferOutputStream()  # Arrow's own stream: no Python file to wrap
            pq.write_table(part, sink, **_parquet_options(part.num_rows))
            key = f"{kind}/m{model_id}/{day.isoformat()}/{batch_id}.parquet"
            self.artifacts.put(key, sink.getvalue().to_pybytes())
            keys.append(key)
        return keys

    def files(
        self,
        kind: Kind,
        model_id: int,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        filtered: bool = True,
    ) -> list[str]:
        """Keys of the model's files for the days [start, end) touches; with `filtered`, only
        those of recorded, not superseded, batches."""
        low, high = _day_range(start, end)
        keys = []
        for key in self.artifacts.list(f"{kind}/m{model_id}"):
            day = key.split("/")[2]
            if low <= day <= high and key.endswith(".parquet"):
                keys.append(key)
        if self.claimed is None or not keys or not filtered:
            return keys
        recorded = self.claimed(sorted({batch_of(key) for key in keys}))
        return [key for key in keys if batch_of(key) in recorded]

    def read_files(self, keys: Sequence[str]) -> pa.Table:
        """The rows of the given files, in order, as one table."""
        tables = [pq.read_table(io.BytesIO(self.artifacts.get(key))) for key in keys]
        return pa.concat_tables(tables, promote_options="permissive")

    @contextmanager
    def _connect(
        self, model_id: int, start: dt.datetime | None, end: dt.datetime | None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with views `predictions` and `labels` over this model's files."""
        connection = duckdb.connect()
        try:
            connection.execute("SET TimeZone = 'UTC'")
            self._view(connection, "predictions", self.files("predictions", model_id, start, end))
            # Labels can arrive days after the prediction they belong to: read them all.
            self._view(connection, "labels", self.files("labels", model_id))
            yield connection
        finally:
            connection.close()

    def _view(self, connection: duckdb.DuckDBPyConnection, name: str, keys: list[str]) -> None:
        if not keys:
            empty = pa.table(
                {
                    ID_COLUMN: pa.array([], pa.string()),
                    TIMESTAMP_COLUMN: pa.array([], TIMESTAMP_TYPE),
                    **({LABEL_COLUMN: pa.array([], pa.float64())} if name == "labels" else {}),
                }
            )
            connection.register(name, empty)
            return
        paths = [self.artifacts.local_path(key) for key in keys]
        if all(path is not None for path in paths):
            relation = connection.read_parquet([str(p) for p in paths], union_by_name=True)
            relation.create_view(name)
            return
        connection.register(name, self.read_files(keys))

    def read(
        self, model_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Prediction rows with `start <= vigil_timestamp < end`, oldest first."""
        with self._connect(model_id, start, end) as connection:
            return connection.sql(
                f"SELECT * FROM predictions WHERE {_between()} ORDER BY {TIMESTAMP_COLUMN}",
                params=_bounds(start, end),
            ).to_arrow_table()

    def joined(
        self, model_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Predictions with their latest label (`vigil_label`, null while none has arrived)."""
        with self._connect(model_id, start, end) as connection:
            return _joined(connection, start, end).to_arrow_table()

    @contextmanager
    def joined_batches(
        self,
        model_id: int,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        rows_per_batch: int = 65_536,
    ) -> Iterator[pa.RecordBatchReader]:
        """`joined` as a reader of batches of `rows_per_batch` rows, so that an export of any
        size holds one batch in memory at a time (what the export route streams)."""
        with self._connect(model_id, start, end) as connection:
            yield _joined(connection, start, end).to_arrow_reader(rows_per_batch)

    def daily_volume(
        self, model_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> list[DailyVolume]:
        """Predictions per day, and how many of them have a label."""
        with self._connect(model_id, start, end) as connection:
            if not _has_ids(connection):  # a model without an id column: no label can join
                rows = connection.execute(
                    f"""
                    SELECT CAST({TIMESTAMP_COLUMN} AS DATE) AS day, count(*) AS n, 0 AS n_labelled
                    FROM predictions WHERE {_between()} GROUP BY day ORDER BY day
                    """,
                    _bounds(start, end),
                ).fetchall()
                return [DailyVolume(day=day, n_predictions=n, n_labelled=k) for day, n, k in rows]
            rows = connection.execute(
                f"""
                WITH labelled AS (SELECT DISTINCT {ID_COLUMN} FROM labels)
                SELECT CAST(p.{TIMESTAMP_COLUMN} AS DATE) AS day, count(*) AS n,
                       count(labelled.{ID_COLUMN}) AS n_labelled
                FROM predictions p LEFT JOIN labelled ON p.{ID_COLUMN} = labelled.{ID_COLUMN}
                WHERE {_between("p.")}
                GROUP BY day ORDER BY day
                """,
                _bounds(start, end),
            ).fetchall()
        return [DailyVolume(day=day, n_predictions=n, n_labelled=k) for day, n, k in rows]


def _has_ids(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the prediction rows carry ids (a model without an id column sends none)."""
    return ID_COLUMN in connection.table("predictions").columns


def _joined(
    connection: duckdb.DuckDBPyConnection, start: dt.datetime | None, end: dt.datetime | None
) -> duckdb.DuckDBPyRelation:
    if not _has_ids(connection):  # no label can join a row without an id
        return connection.sql(
            f"""
            SELECT *, CAST(NULL AS DOUBLE) AS {LABEL_COLUMN},
                   CAST(NULL AS TIMESTAMPTZ) AS vigil_label_timestamp
            FROM predictions WHERE {_between()} ORDER BY {TIMESTAMP_COLUMN}
            """,
            params=_bounds(start, end),
        )
    return connection.sql(
        f"""
        WITH latest AS (
            SELECT {ID_COLUMN},
                   arg_max({LABEL_COLUMN}, {TIMESTAMP_COLUMN}) AS {LABEL_COLUMN},
                   max({TIMESTAMP_COLUMN}) AS vigil_label_timestamp
            FROM labels GROUP BY {ID_COLUMN}
        )
        SELECT p.*, latest.{LABEL_COLUMN}, latest.vigil_label_timestamp
        FROM predictions p LEFT JOIN latest ON p.{ID_COLUMN} = latest.{ID_COLUMN}
        WHERE {_between("p.")}
        ORDER BY p.{TIMESTAMP_COLUMN}
        """,
        params=_bounds(start, end),
    )


def batch_of(key: str) -> str:
    """The batch id a prediction or label file is named by."""
    return key.rsplit("/", 1)[-1].removesuffix(".parquet")


def _between(prefix: str = "") -> str:
    column = f"{prefix}{TIMESTAMP_COLUMN}"
    return f"({column} >= ? OR ? IS NULL) AND ({column} < ? OR ? IS NULL)"


def _bounds(start: dt.datetime | None, end: dt.datetime | None) -> list[dt.datetime | None]:
    return [start, start, end, end]
