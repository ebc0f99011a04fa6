from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

import vigil
from tests.store.helpers import SPEC, T0, labels_table, log_batch
from tests.store.s3 import s3_bucket, s3_endpoint
from vigil.api.specs import KpiIn, ModelSpec
from vigil.api.wire import LabelBatch, LogBatch, ipc_to_table, table_to_ipc
from vigil.errors import ConflictError, InvalidInputError, NotFoundError, SerializationError
from vigil.ingestion import service
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.store.core import Store

__all__ = ["s3_bucket", "s3_endpoint"]


def _windows(store: Store) -> list[tuple[dt.datetime, int, int]]:
    with store.session() as session:
        return [(w.start, w.n_rows, w.n_uploads) for w in service.list_windows(session, "churn")]


def test_creating_a_model_is_idempotent_and_a_different_spec_conflicts(store: Store) -> None:
    with store.session() as session:
        first, created = service.create_model(session, SPEC)
        again, created_again = service.create_model(session, SPEC)
    assert (created, created_again) == (True, False)
    assert first == again
    assert first.features == ["age", "city"]
    changed = SPEC.model_copy(update={"features": ["age"]})
    with store.session() as session, pytest.raises(ConflictError, match="different definition"):
        service.create_model(session, changed)
    with store.session() as session:
        assert service.get_model(session, "churn").features == ["age", "city"]
        with pytest.raises(NotFoundError, match="no monitored model named 'nope'"):
            service.get_model(session, "nope")


def test_replicas_uploading_to_one_window_are_merged(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    for seed in range(3):
        with store.session() as session:
            result = service.ingest_log(session, store.predictions, "churn", log_batch(100, seed))
        assert not result.duplicate
    assert _windows(store) == [(T0, 300, 3)]
    with store.session() as session:
        merged = service.merged_profile(session, "churn")
    expected = vigil.DatasetProfile.merge_all(
        vigil.DatasetProfile.from_bytes(log_batch(100, s).profiles[0]) for s in range(3)
    )
    assert merged.n_rows == 300
    assert merged.columns["age"].mean == pytest.approx(expected.columns["age"].mean)
    assert (
        store.predictions.read(1).num_rows == 300
        or store.predictions.read(_model_id(store)).num_rows == 300
    )


def _model_id(store: Store) -> int:
    with store.session() as session:
        return service.model_id(session, "churn")


def test_a_batch_sent_twice_is_applied_once(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    batch = log_batch(50)
    with store.session() as session:
        assert not service.ingest_log(session, store.predictions, "churn", batch).duplicate
    with store.session() as session:
        assert service.ingest_log(session, store.predictions, "churn", batch).duplicate
    assert _windows(store) == [(T0, 50, 1)]
    assert store.predictions.read(_model_id(store)).num_rows == 50


def test_arrivals_and_versions_are_kept_per_window(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    early, late = T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(minutes=50)
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", log_batch(10, 1), now=early)
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", log_batch(10, 2), now=late)
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", log_batch(10, 3, version="v2"))
    with store.session() as session:
        v1 = service.list_windows(session, "churn", version="v1")
        both = service.list_windows(session, "churn")
    assert [(w.first_arrival, w.last_arrival, w.n_rows) for w in v1] == [(early, late, 20)]
    assert sorted(w.version for w in both) == ["v1", "v2"]


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda b: LogBatch("v1", [b"garbage"], b.rows), SerializationError, "profile"),
        (lambda b: LogBatch("v1", b.profiles, b"not arrow"), SerializationError, "Arrow IPC"),
        (
            lambda b: LogBatch(
                "v1",
                [
                    vigil.profile({"zip": [1, 2]})
                    .with_window(T0, T0 + dt.timedelta(hours=1))
                    .to_bytes()
                ],
                None,
            ),
            InvalidInputError,
            "does not declare",
        ),
        (
            lambda b: LogBatch("v1", [vigil.profile({"age": [1.0]}).to_bytes()], None),
            InvalidInputError,
            "has no window",
        ),
        (
            lambda b: LogBatch(
                "v1",
                [
                    vigil.profile({"age": [1.0]})
                    .with_window(T0, T0 + dt.timedelta(minutes=30))
                    .to_bytes()
                ],
                None,
            ),
            InvalidInputError,
            "not one of",
        ),
        (
            lambda b: LogBatch(
                "v1", [], table_to_ipc(__import__("pyarrow").table({"secret": [1]}))
            ),
            InvalidInputError,
            "does not take",
        ),
        (  # a column twice (pyarrow allows it; looking it up by name would fail with a 500)
            lambda b: LogBatch(
                "v1",
                [],
                table_to_ipc(
                    (t := ipc_to_table(b.rows)).append_column(
                        t.schema.field(TIMESTAMP_COLUMN), t[TIMESTAMP_COLUMN]
                    )
                ),
            ),
            InvalidInputError,
            r"column\(s\) \['vigil_timestamp'\] more than once",
        ),
    ],
)
def test_bad_batches_are_refused_and_change_nothing(
    store: Store, mutate: object, error: type[Exception], match: str
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
        service.ingest_log(session, store.predictions, "churn", log_batch(20))
    before = (_windows(store), store.artifacts.list())
    bad = mutate(log_batch(20, seed=9))  # type: ignore[operator]
    with store.session() as session, pytest.raises(error, match=match):
        service.ingest_log(session, store.predictions, "churn", bad)
    assert (_windows(store), store.artifacts.list()) == before


def test_a_column_whose_kind_changes_conflicts_and_keeps_the_window(store: Store) -> None:
    spec = ModelSpec(name="m", features=["x"])
    with store.session() as session:
        service.create_model(session, spec)
    hour = (T0, T0 + dt.timedelta(hours=1))
    numeric = LogBatch(profiles=[vigil.profile({"x": [1.0, 2.0]}, window=hour).to_bytes()])
    text = LogBatch(profiles=[vigil.profile({"x": ["a", "b"]}, window=hour).to_bytes()])
    with store.session() as session:
        service.ingest_log(session, store.predictions, "m", numeric)
    with store.session() as session, pytest.raises(vigil.VigilError) as caught:
        service.ingest_log(session, store.predictions, "m", text)
    assert caught.value.status_code == 409
    with store.session() as session:
        windows = service.list_windows(session, "m")
        assert [(w.n_rows, w.n_uploads) for w in windows] == [(2, 1)]
        assert service.merged_profile(session, "m").columns["x"].kind == vigil.ColumnKind.NUMERIC


def test_labels_join_to_predictions_latest_label_wins(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
        service.ingest_log(session, store.predictions, "churn", log_batch(10))
    later = T0 + dt.timedelta(days=2)
    first = labels_table(["r0-0", "r0-1"], [1, 0], later)
    fixed = labels_table(["r0-1"], [1], later + dt.timedelta(hours=1))
    for table in (first, fixed):
        with store.session() as session:
            service.ingest_labels(
                session, store.predictions, "churn", LabelBatch(table_to_ipc(table))
            )
    joined = store.predictions.joined(_model_id(store))
    labels = dict(
        zip(joined["vigil_id"].to_pylist(), joined["vigil_label"].to_pylist(), strict=True)
    )
    assert labels["r0-0"] == 1
    assert labels["r0-1"] == 1
    assert sum(v is not None for v in labels.values()) == 2
    assert joined.num_rows == 10
    volume = store.predictions.daily_volume(_model_id(store))
    assert [(v.day, v.n_predictions, v.n_labelled) for v in volume] == [(T0.date(), 10, 2)]
    # Label files are kept per day of the label, not of the prediction.
    assert any(f"/{later.date().isoformat()}/" in k for k in store.artifacts.list("labels"))


def test_kpis_are_stored_per_model_and_version_and_replays_are_ignored(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
        service.log_kpi(
            session, KpiIn(name="revenue", value=10.5, timestamp=T0, model="churn", version="v1")
        )
        service.log_kpi(
            session, KpiIn(name="revenue", value=3.0, timestamp=T0, batch_id="kpi-batch-1")
        )
        service.log_kpi(
            session, KpiIn(name="revenue", value=3.0, timestamp=T0, batch_id="kpi-batch-1")
        )
        everything = service.list_kpis(session, name="revenue")
        churn = service.list_kpis(session, model="churn")
    assert sorted(k.value for k in everything) == [3.0, 10.5]
    assert [(k.value, k.version, k.model) for k in churn] == [(10.5, "v1", "churn")]
    with store.session() as session, pytest.raises(NotFoundError):
        service.log_kpi(session, KpiIn(name="revenue", value=1.0, model="ghost"))


def test_predictions_on_s3_are_queried_with_duckdb(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    store = Store.open(
        f"sqlite:///{tmp_path / 'v.db'}", f"s3://{s3_bucket}/p", s3_endpoint_url=s3_endpoint
    )
    with store.session() as session:
        service.create_model(session, SPEC)
        service.ingest_log(session, store.predictions, "churn", log_batch(30))
        service.ingest_log(session, store.predictions, "churn", log_batch(20, 1))
    table = store.predictions.read(_model_id(store), T0, T0 + dt.timedelta(hours=1))
    assert table.num_rows == 50
    assert set(table.column_names) >= {"vigil_id", "vigil_timestamp", "label", "proba"}
    assert store.predictions.read(_model_id(store), T0 + dt.timedelta(hours=1)).num_rows == 0
    store.close()


def test_files_of_an_upload_that_never_committed_stay_invisible(store: Store) -> None:
    """The server can die between writing a batch's Parquet files and committing it."""
    with store.session() as session:
        service.create_model(session, SPEC)
    batch = log_batch(40)
    assert batch.rows is not None
    rows = ipc_to_table(batch.rows).append_column(
        "vigil_version", pa.array(["v1"] * 40, pa.string())
    )
    store.predictions.append("predictions", _model_id(store), batch.batch_id, rows)
    assert len(store.artifacts.list("predictions")) == 1
    assert store.predictions.read(_model_id(store)).num_rows == 0
    with store.session() as session:  # the client's retry
        service.ingest_log(session, store.predictions, "churn", batch)
    assert store.predictions.read(_model_id(store)).num_rows == 40
    assert len(store.artifacts.list("predictions")) == 1


def test_store_create_token_returns_a_secret_that_authenticates(store: Store) -> None:
    from vigil.api.specs import Scope
    from vigil.store.tokens import TokenRepository

    secret = store.create_token(Scope.WRITE, owner="demo")
    with store.session() as session:
        token = TokenRepository(session).authenticate(secret)
        assert token is not None
        assert (token.scope, token.owner) == ("write", "demo")


def test_rows_of_a_model_without_ids_have_volume_and_no_label(store: Store) -> None:
    """A model with no id column sends rows without ids: they count in the daily volume (the
    dashboard's model page) and join no label, instead of failing the query."""
    spec = SPEC.model_copy(update={"id_column": None})
    batch = log_batch(10)
    rows = ipc_to_table(batch.rows).drop_columns([ID_COLUMN])
    with store.session() as session:
        service.create_model(session, spec)
        service.ingest_log(
            session,
            store.predictions,
            "churn",
            dataclasses.replace(batch, rows=table_to_ipc(rows)),
        )
    model_id = _model_id(store)
    volume = store.predictions.daily_volume(model_id)
    assert [(v.day, v.n_predictions, v.n_labelled) for v in volume] == [(T0.date(), 10, 0)]
    joined = store.predictions.joined(model_id)
    assert joined.num_rows == 10
    assert joined["vigil_label"].null_count == 10
    assert ID_COLUMN not in joined.column_names
