"""An upload's profile, once every check passed on it, is kept decoded for a while, so that
folding it into its window (the compactor, in the same process) does not decode the same bytes
again; a refused upload's profile never is, and the fold's result is the same either way."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.store.helpers import SPEC, T0, log_batch
from vigil.errors import InvalidInputError
from vigil.ingestion import service
from vigil.profile import DatasetProfile, trust
from vigil.store import stored_profiles
from vigil.store.core import Store
from vigil.store.stored_profiles import StoredProfile, decode_stored
from vigil.store.window_folds import fold_parts


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> trust._Decoded:
    """The kept profiles of a process that has checked nothing yet."""
    kept = trust._Decoded(trust.DECODED_CAPACITY)
    monkeypatch.setattr(trust, "DECODED", kept)
    return kept


def _count_kept(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The blobs whose kept profile a fold took."""
    taken: list[bytes] = []

    def counting(blob: bytes) -> object:
        found = trust.decoded(blob)
        if found is not None:
            taken.append(blob)
        return found

    monkeypatch.setattr(stored_profiles, "checked_profile", counting)
    return taken


def test_an_accepted_upload_is_kept_decoded(store: Store, fresh: trust._Decoded) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    batch = log_batch(30, seed=1)
    [blob] = batch.profiles
    assert trust.decoded(blob) is None
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", batch)
    kept = trust.decoded(blob)
    assert isinstance(kept, DatasetProfile)
    again = DatasetProfile.from_bytes(blob)
    assert (kept.n_rows, kept.window) == (again.n_rows, again.window) == (30, again.window)
    assert {n: c.to_dict() for n, c in kept.columns.items()} == {
        n: c.to_dict() for n, c in again.columns.items()
    }


def test_a_refused_upload_is_not_kept(store: Store, fresh: trust._Decoded) -> None:
    # As wide as the profile (a wider one is refused before decoding), but without 'city'.
    narrow = SPEC.model_copy(update={"name": "narrow", "features": ["age", "region"]})
    with store.session() as session:
        service.create_model(session, narrow)
    batch = log_batch(30, seed=2)
    with store.session() as session, pytest.raises(InvalidInputError, match="does not declare"):
        service.ingest_log(session, store.predictions, "narrow", batch)
    assert trust.decoded(batch.profiles[0]) is None


def test_folding_takes_the_kept_profiles_and_gives_the_same_window(
    store: Store, fresh: trust._Decoded, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    batches = [log_batch(10 + i, seed=10 + i) for i in range(6)]
    blobs = [b.profiles[0] for b in batches]
    for batch in batches:
        with store.session() as session:
            service.ingest_log(session, store.predictions, "churn", batch)
    start = T0.replace(tzinfo=dt.UTC)
    # What the window holds, decoded from the bytes alone.
    expected = decode_stored(StoredProfile(1, start, blobs[0], "v1", "", tuple(blobs[1:])), None)
    assert expected is not None
    taken = _count_kept(monkeypatch)
    with store.session() as session:
        model_id = service.model_id(session, "churn")
        assert fold_parts(session, model_id) == 5
        session.commit()
    assert set(blobs[1:]) <= set(taken)  # no part was decoded again
    with store.session() as session:
        folded = service.read_only(session, lambda s: service.merged_profile(s, "churn"))
    assert folded.n_rows == expected.n_rows == sum(10 + i for i in range(6))
    for name, column in expected.columns.items():
        assert folded.columns[name].to_dict() == column.to_dict()


def test_only_the_newest_profiles_are_kept() -> None:
    kept = trust._Decoded(3)
    for i in range(5):
        kept.put(bytes([i]), i)
    assert [kept.get(bytes([i])) for i in range(5)] == [None, None, 2, 3, 4]
