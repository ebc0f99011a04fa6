"""A model's settings beyond its columns' roles: which features are stored with each prediction
row (`row_features`), and the label coverage from which a window is complete. Both survive the
store and the REST API, and are left out of the JSON at their defaults (older clients read it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from vigil.api.specs import DEFAULT_MIN_LABEL_COVERAGE, ModelSpec
from vigil.client import Client
from vigil.errors import InvalidInputError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    yield local
    local.close()


def traffic(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "ts": pd.Timestamp("2026-05-01", tz="UTC") + pd.to_timedelta(np.arange(n), "min"),
            "x": rng.normal(size=n),
            "secret": rng.normal(size=n),
            "pred": rng.normal(size=n),
        }
    )


def stored_rows(client: Client, name: str) -> list[str]:
    from vigil.client.local import LocalTransport

    transport = client._transport
    assert isinstance(transport, LocalTransport)
    with transport.store.session() as session:
        from vigil.store.repositories import ModelRepository

        model_id = ModelRepository(session).get(name).id
    return transport.store.predictions.read(model_id).column_names


def test_row_features_are_stored_with_the_rows_and_no_other_feature_is(client: Client) -> None:
    client.create_model(
        "reg",
        features=["x", "secret"],
        predictions=["pred"],
        id_column="id",
        timestamp_column="ts",
        window="day",
        row_features=["x"],
    )
    client.log("reg", traffic())
    client.flush()
    columns = stored_rows(client, "reg")
    assert "x" in columns
    assert "pred" in columns
    assert "secret" not in columns
    assert client.get_model("reg").row_features == ["x"]


def test_without_row_features_no_feature_value_is_stored(client: Client) -> None:
    client.create_model(
        "plain",
        features=["x", "secret"],
        predictions=["pred"],
        id_column="id",
        timestamp_column="ts",
        window="day",
    )
    client.log("plain", traffic())
    client.flush()
    columns = stored_rows(client, "plain")
    assert "x" not in columns
    assert "secret" not in columns
    assert client.get_model("plain").row_features == []


def test_a_row_feature_must_be_a_feature(client: Client) -> None:
    with pytest.raises(InvalidInputError, match=r"row_features \['pred'\] are not among"):
        client.create_model("bad", features=["x"], predictions=["pred"], row_features=["pred"])


def test_defaults_are_left_out_of_the_json_and_settings_round_trip(client: Client) -> None:
    plain = ModelSpec(name="a", features=["x"])
    assert "row_features" not in plain.model_dump(mode="json")
    assert "min_label_coverage" not in plain.model_dump(mode="json")
    assert plain.min_label_coverage == DEFAULT_MIN_LABEL_COVERAGE
    set_ = ModelSpec(name="b", features=["x"], row_features=["x"], min_label_coverage=0.8)
    assert set_.model_dump(mode="json")["row_features"] == ["x"]
    assert ModelSpec.model_validate(set_.model_dump(mode="json")) == set_
    client.create_model("b", features=["x"], row_features=["x"], min_label_coverage=0.8)
    stored = client.get_model("b")
    assert (stored.row_features, stored.min_label_coverage) == (["x"], 0.8)
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        ModelSpec(name="c", min_label_coverage=1.5)
