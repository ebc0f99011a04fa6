from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import vigil
from vigil.errors import InvalidInputError, NotFoundError, SerializationError
from vigil.registry import Registry, packaging
from vigil.store.core import Store


@pytest.fixture
def local_store(tmp_path: Path) -> Store:
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    yield opened  # type: ignore[misc]
    opened.close()


def _fitted(seed: int) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    return LogisticRegression().fit(x, y)


X = np.random.default_rng(99).normal(size=(20, 3))


def test_vigil_models_is_the_registry_api() -> None:
    assert vigil.models.__name__ == "vigil.client.registry.api"
    assert "models" in vigil.__all__


def test_a_fitted_model_round_trips_by_version_alias_and_latest(local_store: Store) -> None:
    first, second = _fitted(1), _fitted(2)
    v1 = vigil.models.register("churn", first, store=local_store)
    v2 = vigil.models.register("churn", second, store=local_store, metrics={"auc": 0.8})
    assert (v1.version, v2.version, v1.source_format) == (1, 2, "skops")
    vigil.models.set_alias("churn", "production", 1, store=local_store)
    vigil.models.set_alias("churn", "staging", 2, store=local_store)
    expected = {1: first.predict_proba(X), 2: second.predict_proba(X)}
    for uri, version in [
        ("models:/churn/1", 1),
        ("models:/churn/2", 2),
        ("models:/churn@production", 1),
        ("models:/churn@staging", 2),
        ("models:/churn/latest", 2),
    ]:
        loaded = vigil.models.load(uri, store=local_store)
        assert isinstance(loaded, LogisticRegression)
        np.testing.assert_array_equal(loaded.predict_proba(X), expected[version])
        assert vigil.models.resolve(uri, store=local_store).version == version


def test_joblib_is_used_when_skops_is_missing(
    local_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packaging, "_skops", lambda: None)
    model = _fitted(3)
    info = vigil.models.register("churn", model, store=local_store)
    assert info.source_format == "joblib"
    loaded = vigil.models.load("models:/churn/1", store=local_store)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_files_and_folders_are_stored_as_they_are(local_store: Store, tmp_path: Path) -> None:
    import joblib

    model = _fitted(4)
    joblib.dump(model, tmp_path / "model.joblib")
    vigil.models.register("churn", tmp_path / "model.joblib", store=local_store)
    loaded = vigil.models.load("models:/churn/1", store=local_store)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    folder = tmp_path / "onnx_model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"\x00onnx")
    (folder / "sub" / "vocab.txt").write_text("a\nb\n")
    info = vigil.models.register("churn", folder, store=local_store)
    assert (info.version, info.source_format, info.source_name) == (2, "directory", "onnx_model")
    out = vigil.models.load("models:/churn/2", store=local_store, dst=str(tmp_path / "out"))
    assert (out / "model.onnx").read_bytes() == b"\x00onnx"
    assert (out / "sub" / "vocab.txt").read_text() == "a\nb\n"

    (tmp_path / "weights.bin").write_bytes(b"w" * 10)
    vigil.models.register("churn", tmp_path / "weights.bin", store=local_store)
    path = vigil.models.load("models:/churn/3", store=local_store)
    assert path.name == "weights.bin"
    assert path.read_bytes() == b"w" * 10


def test_an_mlflow_folder_needs_mlflow(local_store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "mlflow_model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    info = vigil.models.register("churn", folder, store=local_store)
    assert info.source_format == "mlflow"
    try:
        import mlflow  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidInputError, match="install mlflow"):
            vigil.models.load("models:/churn/1", store=local_store)


def test_a_changed_artifact_is_refused(local_store: Store) -> None:
    vigil.models.register("churn", _fitted(5), store=local_store)
    key = Registry(local_store).get_version_row("churn", 1).source_key
    local_store.artifacts.put(key, b"something else")
    with pytest.raises(SerializationError, match="changed outside the registry"):
        vigil.models.load("models:/churn/1", store=local_store)
    assert (
        hashlib.sha256(b"something else").hexdigest()
        != Registry(local_store).get_version("churn", 1).source_sha256
    )


def test_untrusted_skops_types_are_named(local_store: Store, tmp_path: Path) -> None:
    skops_io = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    path.write_bytes(skops_io.dumps({"f": Fraction(1, 2)}))  # a type skops does not trust
    vigil.models.register("custom", path, store=local_store)
    untrusted = skops_io.get_untrusted_types(file=path)
    assert untrusted
    with pytest.raises(InvalidInputError, match="does not trust") as info:
        vigil.models.load("models:/custom/1", store=local_store)
    assert info.value.details["untrusted"] == untrusted
    loaded = vigil.models.load("models:/custom/1", store=local_store, trusted=untrusted)
    assert loaded == {"f": Fraction(1, 2)}


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("churn@production", "not valid"),
        ("models:/churn/zero", "positive integer"),
        ("models:/churn/0", "positive integer"),
        ("models:/churn@latest", "reserved"),
    ],
)
def test_bad_uris_say_what_is_accepted(local_store: Store, uri: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        vigil.models.load(uri, store=local_store)


def test_unknown_targets_are_not_found(local_store: Store) -> None:
    vigil.models.register("churn", _fitted(6), store=local_store)
    with pytest.raises(NotFoundError, match=r"registered models: churn"):
        vigil.models.load("models:/fraud/1", store=local_store)
    with pytest.raises(NotFoundError, match=r"its versions: 1\)"):
        vigil.models.load("models:/churn/2", store=local_store)
    with pytest.raises(NotFoundError, match=r"its aliases: none"):
        vigil.models.load("models:/churn@production", store=local_store)


def test_the_default_store_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_STORE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("VIGIL_ARTIFACTS_URL", str(tmp_path / "env-artifacts"))
    vigil.models.register("churn", _fitted(7))
    assert [m.name for m in vigil.models.list_models()] == ["churn"]
    assert any((tmp_path / "env-artifacts").rglob("model.skops"))


def test_download_gives_the_files_without_deserialising(local_store: Store, tmp_path: Path) -> None:
    skops_io = pytest.importorskip("skops.io")
    model = _fitted(8)
    vigil.models.register("churn", model, store=local_store)
    path = vigil.models.download("models:/churn/1", str(tmp_path / "d1"), store=local_store)
    assert path == tmp_path / "d1" / "model.skops"
    np.testing.assert_array_equal(skops_io.load(path).predict(X), model.predict(X))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    vigil.models.register("churn", folder, store=local_store)
    out = vigil.models.download("models:/churn/2", str(tmp_path / "d2"), store=local_store)
    assert (out / "a.txt").read_text() == "a"
    key = Registry(local_store).get_version_row("churn", 2).source_key
    local_store.artifacts.put(key, b"tampered")
    with pytest.raises(SerializationError, match="changed outside the registry"):
        vigil.models.download("models:/churn/2", store=local_store)


def test_an_mlflow_folder_loads_through_mlflow_pyfunc_when_installed(
    local_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    loaded_from: list[Path] = []

    def load_model(uri: str) -> str:
        loaded_from.append(Path(uri))
        return "pyfunc model"

    fake = types.ModuleType("mlflow")
    pyfunc = types.ModuleType("mlflow.pyfunc")
    pyfunc.load_model = load_model  # type: ignore[attr-defined]
    fake.pyfunc = pyfunc  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", pyfunc)
    folder = tmp_path / "mlflow_model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "model.pkl").write_bytes(b"weights")
    vigil.models.register("churn", folder, store=local_store)
    assert vigil.models.load("models:/churn/1", store=local_store) == "pyfunc model"
    assert (loaded_from[0] / "MLmodel").read_text() == "flavors: {}\n"
    assert (loaded_from[0] / "model.pkl").read_bytes() == b"weights"
