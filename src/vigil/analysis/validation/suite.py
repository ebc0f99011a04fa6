"""A suite: an ordered, typed collection of checks that runs on a profile (or on raw data, which
it profiles with the regular expressions its checks need) and round-trips through YAML."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from vigil.analysis.validation.base import SEVERITIES, Check, Severity
from vigil.analysis.validation.registry import check_from_dict
from vigil.analysis.validation.result import ValidationResult
from vigil.errors import InvalidInputError
from vigil.io import open_source
from vigil.profile import DatasetProfile, profile
from vigil.schema import ColumnKind, Schema

SUITE_FORMAT_VERSION = 1
_TOP_KEYS = ("version", "name", "fail_on", "checks")


class _Dumper(yaml.SafeDumper):
    """Safe YAML that keeps every string exact: strings with line breaks or characters a plain
    scalar would lose (NEL, line separators, control characters) are written double-quoted."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    risky = not value.isprintable() or any(ch in value for ch in "\x85\u2028\u2029\ufeff")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if risky else None)


_Dumper.add_representer(str, _represent_str)


def _check_fail_on(value: Any) -> Severity:
    if value not in get_args(Severity):
        raise InvalidInputError(
            f"fail_on must be one of {', '.join(SEVERITIES)}, got {value!r}", value=repr(value)
        )
    result: Severity = value
    return result


@dataclass(frozen=True, slots=True, init=False)
class Suite:
    """Checks run together on one table.

    >>> suite = Suite([MinInRange(column="age", min=0), MissingShareAtMost(column="age", max_share=0.05)])
    >>> suite.validate(data).passed

    `fail_on` is the lowest severity whose failure fails the result: "warning" (default) ignores
    failed info checks, "error" also ignores warnings, "info" fails on anything.
    """

    checks: tuple[Check, ...]
    fail_on: Severity
    name: str | None

    def __init__(
        self,
        checks: Iterable[Check] = (),
        *,
        fail_on: Severity = "warning",
        name: str | None = None,
    ) -> None:
        items = tuple(checks)
        for index, item in enumerate(items):
            if not isinstance(item, Check):
                raise InvalidInputError(
                    f"checks[{index}] is a {type(item).__name__}, not a validation check; build "
                    "checks from vigil.analysis.validation (e.g. MinInRange(column='age', min=0))"
                )
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(f"suite name must be a string, got {name!r}")
        object.__setattr__(self, "checks", items)
        object.__setattr__(self, "fail_on", _check_fail_on(fail_on))
        object.__setattr__(self, "name", name)

    def __len__(self) -> int:
        return len(self.checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def columns(self) -> list[str]:
        """Columns the suite reads, in order of first mention."""
        return list(dict.fromkeys(c.column for c in self.checks))

    def patterns(self) -> dict[str, list[str]]:
        """Regular expressions to count per column while profiling, for `vigil.profile(patterns=)`."""
        wanted: dict[str, list[str]] = {}
        for check in self.checks:
            for pattern in check.patterns():
                found = wanted.setdefault(check.column, [])
                if pattern not in found:
                    found.append(pattern)
        return wanted

    def with_checks(self, checks: Iterable[Check]) -> Suite:
        """A new suite with `checks` appended."""
        return Suite((*self.checks, *checks), fail_on=self.fail_on, name=self.name)

    def validate(
        self,
        current: Any,
        *,
        fail_on: Severity | None = None,
        schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    ) -> ValidationResult:
        """Run every check on `current`: a DatasetProfile, or data (DataFrame, Arrow table, dict of
        arrays, Parquet/CSV path), which is profiled with the patterns the suite needs and the
        column kinds in `schema` (e.g. ``{"zip": "categorical"}``)."""
        if isinstance(current, DatasetProfile):
            if schema is not None:
                raise InvalidInputError(
                    "schema= applies to raw data, and `current` is already a profile; "
                    "profile the data with that schema instead"
                )
            current_profile = current
        else:
            current_profile = self.profile(current, schema=schema)
        verdict = self.fail_on if fail_on is None else _check_fail_on(fail_on)
        results = tuple(check.run(current_profile) for check in self.checks)
        return ValidationResult(results, verdict, current_profile.n_rows)

    def profile(
        self, data: Any, *, schema: Schema | Mapping[str, str | ColumnKind] | None = None
    ) -> DatasetProfile:
        """Profile raw data with the patterns this suite needs (for columns the data has)."""
        wanted = self.patterns()
        if not wanted:
            return profile(data, schema=schema)
        # `profile` refuses patterns for columns the data lacks; a missing column must fail its
        # checks instead, so look at the column names first (files: the header only; in-memory
        # frames are converted twice, which only suites with patterns pay for).
        names = set(open_source(data).schema.names)
        patterns = {c: p for c, p in wanted.items() if c in names}
        return profile(data, schema=schema, patterns=patterns)

    # -- plain data and YAML -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"version": SUITE_FORMAT_VERSION}
        if self.name is not None:
            body["name"] = self.name
        body["fail_on"] = self.fail_on
        body["checks"] = [check.to_dict() for check in self.checks]
        return body

    @classmethod
    def from_dict(cls, data: Any) -> Suite:
        if not isinstance(data, Mapping):
            raise InvalidInputError(
                f"a suite must be a mapping with a 'checks' list, got {type(data).__name__}"
            )
        unknown = [k for k in data if k not in _TOP_KEYS]
        if unknown:
            raise InvalidInputError(
                f"unknown suite key(s) {unknown}; a suite has: {', '.join(_TOP_KEYS)}",
                keys=[str(k) for k in unknown],
            )
        version = data.get("version", SUITE_FORMAT_VERSION)
        if version != SUITE_FORMAT_VERSION:
            raise InvalidInputError(
                f"suite format version {version!r} is not supported; this Vigil reads version "
                f"{SUITE_FORMAT_VERSION}",
                value=repr(version),
            )
        checks = data.get("checks", [])
        if not isinstance(checks, list):
            raise InvalidInputError(
                f"'checks' must be a list of checks, got {type(checks).__name__}"
            )
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(f"'name' must be a string, got {name!r}")
        return cls(
            (check_from_dict(item, where=f"checks[{i}]") for i, item in enumerate(checks)),
            fail_on=_check_fail_on(data.get("fail_on", "warning")),
            name=name,
        )

    def to_yaml(self) -> str:
        return yaml.dump(
            self.to_dict(),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=None,
            width=100,
        )

    @classmethod
    def from_yaml(cls, text: str) -> Suite:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"the suite is not valid YAML: {exc}") from None
        if data is None:
            raise InvalidInputError("the suite YAML is empty; it needs a 'checks' list")
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Suite:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read suite file {str(path)!r}: {exc.strerror}", path=str(path)
            ) from None
        except UnicodeDecodeError:
            raise InvalidInputError(f"suite file {str(path)!r} is not UTF-8 text") from None
        try:
            return cls.from_yaml(text)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: {exc.message}", path=str(path)) from None
