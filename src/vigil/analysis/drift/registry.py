"""The one place drift methods are registered: one line per method."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vigil.analysis.drift import (
    chi_square,
    cramer_von_mises,
    hellinger,
    jensen_shannon,
    kl_divergence,
    ks,
    psi,
    wasserstein,
    welch_t,
    z_test,
)
from vigil.analysis.drift.base import DriftMethod
from vigil.errors import InvalidInputError

_ALL: tuple[DriftMethod, ...] = (
    ks.METHOD,
    cramer_von_mises.METHOD,
    chi_square.METHOD,
    z_test.METHOD,
    psi.METHOD,
    jensen_shannon.METHOD,
    wasserstein.METHOD,
    hellinger.METHOD,
    kl_divergence.METHOD,
    welch_t.METHOD,
)

METHODS: Mapping[str, DriftMethod] = MappingProxyType({m.name: m for m in _ALL})
_LOOKUP: Mapping[str, DriftMethod] = MappingProxyType(
    {alias: m for m in _ALL for alias in (m.name, *m.aliases)}
)


def get_method(name: str) -> DriftMethod:
    """The method registered under `name` (or one of its aliases), else InvalidInputError."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    if key not in _LOOKUP:
        raise InvalidInputError(
            f"unknown drift method {name!r}; choose one of {sorted(METHODS)}",
            method=name,
            allowed=sorted(METHODS),
        )
    return _LOOKUP[key]
