"""The contract of every registry (drift methods, validation checks, monitor kinds, channels):
read-only, each entry registered once under its own name, found by that name, an unknown name
refused with an error naming it and the known ones, and each entry saying what it is. Monitor
kinds also carry their facts: the gauges /metrics exports of them and their event mapping.

A new entry is picked up by itself; the registries' own contract tests (tests/analysis/drift,
tests/analysis/validation, tests/events) check what each kind of entry computes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pytest

from vigil.analysis.drift.registry import METHODS, get_method
from vigil.analysis.explain.explainers import EXPLAINERS, get_explainer
from vigil.analysis.validation.registry import CHECKS, check_from_dict
from vigil.errors import InvalidInputError
from vigil.events.channels.registry import CHANNELS, get_sender
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import KINDS, KindOptions, MonitorKind, get_kind, kinds_with_gauge
from vigil.monitor.specs import LearnedThreshold, ProfileBaseline, RegistryBaseline, StaticThreshold

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check(name: str) -> Any:
    return type(check_from_dict({"type": name, "column": "c", **_check_params(name)}))


def _check_params(name: str) -> dict[str, Any]:
    example = CHECKS[name].example("c") if name in CHECKS else None
    return {} if example is None else {k: v for k, v in example.to_dict().items() if k != "type"}


@dataclass(frozen=True)
class Registry:
    entries: Mapping[str, Any]
    name_of: Callable[[Any], str]
    lookup: Callable[[str], Any]
    says: Callable[[Any], str]
    """What the entry is, in words (its description or docstring)."""


REGISTRIES = {
    "drift methods": Registry(METHODS, lambda m: m.name, get_method, lambda m: m.description),
    "validation checks": Registry(CHECKS, lambda c: c.type, _check, lambda c: c.__doc__ or ""),
    "monitor kinds": Registry(KINDS, lambda k: k.name, get_kind, lambda k: k.description),
    "channels": Registry(CHANNELS, lambda c: c.type, get_sender, lambda c: c.config.__doc__ or ""),
    "explainers": Registry(EXPLAINERS, lambda e: e.name, get_explainer, lambda e: e.description),
}
ENTRIES = [(registry, key) for registry, r in REGISTRIES.items() for key in r.entries]


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_a_registry_is_read_only(registry: str) -> None:
    entries = REGISTRIES[registry].entries
    assert isinstance(entries, MappingProxyType)
    first = next(iter(entries))
    with pytest.raises(TypeError):
        entries["another"] = entries[first]  # type: ignore[index]
    with pytest.raises(TypeError):
        del entries[first]  # type: ignore[attr-defined]
    assert "another" not in entries


@pytest.mark.parametrize(("registry", "key"), ENTRIES)
def test_an_entry_is_registered_once_under_its_own_name(registry: str, key: str) -> None:
    r = REGISTRIES[registry]
    entry = r.entries[key]
    assert r.name_of(entry) == key
    assert NAME.match(key), key
    assert [k for k, e in r.entries.items() if e is entry] == [key]


@pytest.mark.parametrize(("registry", "key"), ENTRIES)
def test_an_entry_is_found_by_its_name_and_says_what_it_is(registry: str, key: str) -> None:
    r = REGISTRIES[registry]
    assert r.lookup(key) is r.entries[key]
    assert len(r.says(r.entries[key]).strip()) >= 10, f"{registry} {key!r} does not say what it is"


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_an_unknown_name_is_refused_naming_it_and_the_known_ones(registry: str) -> None:
    r = REGISTRIES[registry]
    with pytest.raises(InvalidInputError) as caught:
        r.lookup("no_such_entry")
    assert "no_such_entry" in caught.value.message
    assert all(key in caught.value.message for key in r.entries)


# -- monitor kinds: their facts live on the kind ----------------------------------------------


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_kinds_defaults_make_a_valid_monitor(name: str) -> None:
    kind: MonitorKind = KINDS[name]
    assert issubclass(kind.options_model, KindOptions)
    assert isinstance(kind.default_threshold, StaticThreshold | LearnedThreshold)
    if isinstance(kind.default_threshold, LearnedThreshold):
        # A learned threshold learns from windows: a single-profile default would be refused.
        assert not isinstance(kind.default_baseline, ProfileBaseline | RegistryBaseline)
    if kind.needs_profile is False:
        assert not kind.needs_reference, "a kind comparing profiles reads the window's profile"
    definition = {"name": "m", "kind": name, "target": {"model": "x"}}
    required = [f for f, info in kind.options_model.model_fields.items() if info.is_required()]
    if required:  # a kind with required options says so, naming the kind
        with pytest.raises(ValueError, match=f"invalid options for a '{name}' monitor"):
            Monitor.model_validate(definition)
        return
    monitor = Monitor.model_validate(definition)
    assert monitor.effective_threshold() == kind.default_threshold
    assert monitor.effective_baseline() == kind.default_baseline


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_kinds_gauges_are_exported_at_metrics(name: str) -> None:
    from vigil.server.metrics import Metrics

    exported = {m.name for m in Metrics().registry.collect()}
    for gauge in KINDS[name].gauges:
        assert gauge in exported, f"kind {name!r} feeds {gauge!r}, which /metrics does not export"
        assert name in kinds_with_gauge(gauge)


def test_the_drift_gauges_come_from_the_drift_kinds() -> None:
    from vigil.monitor.gauges import drift_kinds

    assert set(drift_kinds()) == {"data_drift", "prediction_drift"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_kinds_event_mapping_is_on_the_kind(name: str) -> None:
    """Infrastructure kinds (no rows, too few, too rare) say nothing of the model's quality: an
    alert of theirs never publishes `model.degraded`; every other kind's does."""
    from vigil.events import findings

    infrastructure = {"no_data", "volume", "frequency"}
    assert KINDS[name].degrades_model is (name not in infrastructure)
    legacy = getattr(findings, "INFRASTRUCTURE_KINDS", None)
    if legacy is not None:  # the events side's own copy, until it reads the kind's fact
        assert (name in legacy) is not KINDS[name].degrades_model
