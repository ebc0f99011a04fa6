"""An upload's profile bytes are remembered as checked only once every check has passed on them,
so the compactor folds them without checking their sketches twice; refused bytes never are."""

from __future__ import annotations

import dataclasses

import pytest

from tests.store.helpers import SPEC, log_batch
from vigil.errors import InvalidInputError, SerializationError
from vigil.ingestion import service
from vigil.profile import DatasetProfile, sketches, trust
from vigil.store.core import Store


def _fresh_memory(monkeypatch: pytest.MonkeyPatch) -> trust._Written:
    """The profile memory of a process that encoded none of the bytes made so far (they come
    from a client)."""
    written = trust._Written(trust.CAPACITY)
    monkeypatch.setattr(trust, "WRITTEN", written)
    return written


def _refuse(*_: object, **__: object) -> int:
    raise SerializationError("checked")


def test_an_accepted_upload_is_folded_without_a_second_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    batch = log_batch(50, seed=1)
    [blob] = batch.profiles
    fresh_memory = _fresh_memory(monkeypatch)
    assert blob not in fresh_memory
    with store.session() as session:
        assert not service.ingest_log(session, store.predictions, "churn", batch).duplicate
    assert blob in fresh_memory
    # Decoding the stored part again (as a fold does) runs no sketch check: it would fail here.
    monkeypatch.setattr(sketches, "check_kll", _refuse)
    assert DatasetProfile.from_bytes(blob).n_rows == 50


def test_a_refused_upload_is_not_remembered(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    # As wide as the profile (a wider one is refused before decoding), but without 'city'.
    narrower = SPEC.model_copy(update={"name": "narrow", "features": ["age", "region"]})
    with store.session() as session:
        service.create_model(session, narrower)
    batch = log_batch(50, seed=2)
    [blob] = batch.profiles
    fresh_memory = _fresh_memory(monkeypatch)
    # The profile decodes, but names a column model 'narrow' does not declare: refused.
    with store.session() as session, pytest.raises(InvalidInputError, match="does not declare"):
        service.ingest_log(session, store.predictions, "narrow", batch)
    assert blob not in fresh_memory


def test_corrupt_profile_bytes_are_refused_and_not_remembered(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    batch = log_batch(50, seed=3)
    corrupt = batch.profiles[0][:-7] + b"\x00" * 7
    bad = dataclasses.replace(batch, profiles=[corrupt])
    fresh_memory = _fresh_memory(monkeypatch)
    with store.session() as session, pytest.raises(SerializationError):
        service.ingest_log(session, store.predictions, "churn", bad)
    assert corrupt not in fresh_memory
