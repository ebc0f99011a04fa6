from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

import vigil
from vigil.actors import current_user
from vigil.errors import InvalidInputError, NotFoundError
from vigil.registry import Registry
from vigil.registry.core import RegistryCore
from vigil.store.core import Store
from vigil.store.registry_tables import RegistryAlias

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


class _Clock:
    """Stands in for the registry's clock so that event times are known."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(RegistryCore, "_now", staticmethod(fake))
    return fake


def _three_versions(registry: Registry, tmp_path: Path) -> None:
    for i in range(3):
        path = tmp_path / f"model{i}.txt"
        path.write_text(f"model {i}")
        registry.register("churn", path)


def test_versions_are_numbered_per_model_and_keep_their_metadata(
    store: Store, tmp_path: Path
) -> None:
    registry = Registry(store)
    _three_versions(registry, tmp_path)
    (tmp_path / "other.txt").write_text("other")
    other = registry.register("fraud", tmp_path / "other.txt")
    prof = vigil.profile({"age": [31, 45, 27], "city": ["Oslo", "Lyon", "Oslo"]})
    fourth = registry.register(
        "churn",
        tmp_path / "model0.txt",
        run_id="3f2a9c0e5b6d4e0f8a1b2c3d4e5f6a7b",
        tags={"team": "growth"},
        description="retrained",
        metrics={"auc": 0.9},
        profile=prof,
    )
    assert [v.version for v in registry.list_versions("churn")] == [1, 2, 3, 4]
    assert other.version == 1
    assert fourth.run_id == "3f2a9c0e5b6d4e0f8a1b2c3d4e5f6a7b"
    assert fourth.tags == {"team": "growth"}
    assert fourth.metrics == {"auc": 0.9}
    assert fourth.created_by == current_user() != ""
    assert fourth.schema == {
        "inputs": [{"name": "age", "kind": "numeric"}, {"name": "city", "kind": "categorical"}],
        "outputs": [],
    }
    assert fourth.has_profile
    assert registry.training_profile("churn", 4) is not None
    assert registry.training_profile("churn", 1) is None
    assert [m.name for m in registry.list_models()] == ["churn", "fraud"]
    assert registry.get_model("churn").latest_version == 4
    explicit = registry.register(
        "fraud", tmp_path / "other.txt", schema={"inputs": [{"name": "x", "kind": "numeric"}]}
    )
    assert explicit.schema == {"inputs": [{"name": "x", "kind": "numeric"}], "outputs": []}
    # The artifact sits under a key the registry chose, whatever the file was called.
    row = registry.get_version_row("churn", 1)
    assert row.source_key.startswith("registry/")
    assert row.source_key.endswith("/model.bin")
    assert store.artifacts.get(row.source_key) == b"model 0"


def test_unknown_names_raise_not_found_listing_what_exists(store: Store, tmp_path: Path) -> None:
    registry = Registry(store)
    _three_versions(registry, tmp_path)
    registry.set_alias("churn", "staging", 2)
    with pytest.raises(
        NotFoundError, match=r"no registered model named 'nope' \(registered models: churn\)"
    ):
        registry.get_model("nope")
    with pytest.raises(NotFoundError, match=r"no version 9 \(its versions: 1, 2, 3\)"):
        registry.get_version("churn", 9)
    with pytest.raises(NotFoundError, match=r"no alias 'production' \(its aliases: @staging\)"):
        registry.get_alias("churn", "production")
    with pytest.raises(NotFoundError, match="no version 7"):
        registry.set_alias("churn", "production", 7)
    with pytest.raises(InvalidInputError, match="reserved"):
        registry.set_alias("churn", "latest", 1)
    with pytest.raises(InvalidInputError, match="model name"):
        registry.register("a/b", tmp_path / "model0.txt")


def test_alias_at_answers_which_version_held_the_alias_at_any_time(
    store: Store, tmp_path: Path, clock: _Clock
) -> None:
    registry = Registry(store, actor="alice")
    _three_versions(registry, tmp_path)
    minute = dt.timedelta(minutes=1)
    clock.now = T0 + 10 * minute
    first = registry.set_alias("churn", "production", 1)
    clock.now = T0 + 20 * minute
    moved = registry.set_alias("churn", "production", 3)
    clock.now = T0 + 30 * minute
    registry.set_alias("churn", "production", 2)
    clock.now = T0 + 40 * minute
    registry.delete_alias("churn", "production")
    clock.now = T0 + 50 * minute
    registry.set_alias("churn", "production", 3)

    def at(offset: dt.timedelta) -> int | None:
        return registry.alias_at("churn", "production", T0 + offset)

    assert at(5 * minute) is None  # before the alias existed
    assert at(10 * minute - dt.timedelta(microseconds=1)) is None
    assert at(10 * minute) == 1  # a move at exactly T counts
    assert at(15 * minute) == 1
    assert at(20 * minute - dt.timedelta(microseconds=1)) == 1
    assert at(20 * minute) == 3
    assert at(35 * minute) == 2
    assert at(45 * minute) is None  # deleted
    assert at(55 * minute) == 3
    assert (first.kind, first.from_version, first.to_version) == ("alias_set", None, 1)
    assert (moved.kind, moved.from_version, moved.to_version, moved.actor) == (
        "alias_moved",
        1,
        3,
        "alice",
    )
    kinds = [
        (e.kind, e.from_version, e.to_version) for e in registry.events("churn", alias="production")
    ]
    assert kinds == [
        ("alias_set", None, 1),
        ("alias_moved", 1, 3),
        ("alias_moved", 3, 2),
        ("alias_deleted", 2, None),
        ("alias_set", None, 3),
    ]
    assert registry.get_alias("churn", "production").version == 3
    assert registry.get_version("churn", 3).aliases == ("production",)
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        registry.alias_at("churn", "production", dt.datetime(2026, 11, 1))


def test_event_times_never_go_backwards(store: Store, tmp_path: Path, clock: _Clock) -> None:
    registry = Registry(store)
    _three_versions(registry, tmp_path)
    clock.now = T0 + dt.timedelta(hours=1)
    registry.set_alias("churn", "production", 1)
    clock.now = T0  # the clock stepped back (NTP): the move is still after the first
    registry.set_alias("churn", "production", 2)
    assert registry.alias_at("churn", "production", T0 + dt.timedelta(hours=1)) == 2


def test_tag_changes_are_events(store: Store, tmp_path: Path) -> None:
    registry = Registry(store, actor="bob")
    _three_versions(registry, tmp_path)
    registry.set_model_tags("churn", {"owner": "growth"})
    registry.set_version_tags("churn", 2, {"validated": True})
    assert registry.get_model("churn").tags == {"owner": "growth"}
    assert registry.get_version("churn", 2).tags == {"validated": "True"}
    changes = [e for e in registry.events("churn") if e.kind == "tags_changed"]
    assert [(e.to_version, e.details["to"], e.actor) for e in changes] == [
        (None, {"owner": "growth"}, "bob"),
        (2, {"validated": "True"}, "bob"),
    ]
    assert [e.kind for e in registry.events("churn")][:4] == [
        "model_created",
        "version_created",
        "version_created",
        "version_created",
    ]


def _mover(store_url: str, artifacts: str, versions: list[int], who: str) -> None:
    opened = Store.open(store_url, artifacts, migrate=False)
    try:
        registry = Registry(opened, actor=who)
        for version in versions:
            registry.set_alias("churn", "production", version)
    finally:
        opened.close()


def test_two_processes_moving_one_alias_leave_the_log_and_the_alias_agreeing(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    registry = Registry(store)
    _three_versions(registry, tmp_path)
    moves = 30
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_mover,
            args=(store_url, store.artifacts.url, [1 + (i + k) % 3 for i in range(moves)], f"p{k}"),
        )
        for k in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    log = registry.events("churn", alias="production")
    assert len(log) == 2 * moves
    assert log[0].kind == "alias_set"
    assert log[0].from_version is None
    assert all(e.kind == "alias_moved" for e in log[1:])
    # Each move starts from where the one before it left the alias: no lost update.
    for before, after in itertools.pairwise(log):
        assert after.from_version == before.to_version
        assert after.at >= before.at
    assert {e.actor for e in log} == {"p0", "p1"}
    with store.session() as session:
        rows = session.scalars(select(RegistryAlias)).all()
    assert len(rows) == 1
    assert rows[0].version == log[-1].to_version
    assert registry.alias_at("churn", "production", log[-1].at) == log[-1].to_version


def test_versions_of_a_run_give_the_lineage(store: Store, tmp_path: Path) -> None:
    registry = Registry(store)
    path = tmp_path / "m.bin"
    path.write_bytes(b"m")
    registry.register("churn", path, run_id="run-a")
    registry.register("churn", path, run_id="run-b")
    registry.register("fraud", path, run_id="run-a")
    found = registry.versions_of_run("run-a")
    assert [(v.name, v.version) for v in found] == [("churn", 1), ("fraud", 1)]
    assert registry.versions_of_run("run-c") == []


def test_a_failed_registration_leaves_no_artifact(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = Registry(store)
    path = tmp_path / "m.bin"
    path.write_bytes(b"m")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(registry, "_add_version", broken)
    with pytest.raises(RuntimeError, match="went away"):
        registry.register("churn", path, profile=vigil.profile({"a": [1, 2]}))
    assert store.artifacts.list("registry") == []


def _registrar(store_url: str, artifacts: str, path: str, count: int, who: str) -> None:
    opened = Store.open(store_url, artifacts, migrate=False)
    try:
        registry = Registry(opened, actor=who)
        for _ in range(count):
            registry.register("fresh", path)
    finally:
        opened.close()


def test_two_processes_registering_a_new_model_get_distinct_numbers(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(b"m")
    context = multiprocessing.get_context("spawn")
    count = 8
    workers = [
        context.Process(
            target=_registrar, args=(store_url, store.artifacts.url, str(path), count, f"p{k}")
        )
        for k in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    registry = Registry(store)
    versions = registry.list_versions("fresh")
    assert [v.version for v in versions] == list(range(1, 2 * count + 1))
    assert {v.created_by for v in versions} == {"p0", "p1"}
    kinds = [e.kind for e in registry.events("fresh")]
    assert kinds.count("model_created") == 1
    assert kinds.count("version_created") == 2 * count
