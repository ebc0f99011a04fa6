"""The shared machinery of a validation check: validated parameters, locating the column, checking
its kind, and turning an observation into a `CheckResult`. A new check writes `observe`,
`expected` and `example`, and is registered in one line in `registry.py`."""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.errors import InvalidInputError, VigilError
from vigil.profile.columns import AnyColumn
from vigil.profile.profile import DatasetProfile
from vigil.schema import ColumnKind

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}

Observed = float | int | str | None
"""What a check saw: a number, a word (a kind, "absent"), or None when it could not be computed."""

NUMERIC = frozenset({ColumnKind.NUMERIC})
STRINGS = frozenset({ColumnKind.CATEGORICAL, ColumnKind.TEXT})


def counts_against(severity: str, fail_on: str) -> bool:
    """True when a failed check of `severity` makes a result fail under `fail_on`."""
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]


def fmt(value: Observed) -> str:
    """A value for a person: numbers with 6 significant digits, words as they are."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if value is None:
        return "unavailable"
    return str(value)


@dataclass(frozen=True, slots=True)
class Observation:
    """What `Check.observe` returns: the statistic, whether it passes, and a note for the message
    (why it is unavailable, how approximate it is, which values were new)."""

    value: Observed
    passed: bool
    note: str = ""

    @classmethod
    def unavailable(cls, reason: str) -> Observation:
        return cls(None, False, reason)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one profile."""

    type: str
    column: str
    severity: Severity
    passed: bool
    expected: str
    observed: Observed
    message: str

    def to_dict(self) -> dict[str, Any]:
        observed = self.observed
        if isinstance(observed, float) and not math.isfinite(observed):
            observed = fmt(observed)  # JSON has no infinity
        return {
            "type": self.type,
            "column": self.column,
            "severity": self.severity,
            "passed": self.passed,
            "expected": self.expected,
            "observed": observed,
            "message": self.message,
        }


class Check(BaseModel):
    """Base class of every validation check: a frozen pydantic model whose fields are its
    parameters, validated strictly at construction (a YAML string "5" is not the number 5)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    type: ClassVar[str]
    """The name the check has in YAML and in results, e.g. ``min_in_range``."""
    kinds: ClassVar[frozenset[ColumnKind] | None] = None
    """Column kinds the check reads; None for any kind."""
    statistic: ClassVar[str]
    """What the check observes, in a word or two (for messages)."""

    column: str = Field(min_length=1)
    severity: Severity = "error"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidInputError(
                f"{self.type}: {describe_errors(exc, type(self))}", type=self.type
            ) from None

    # -- what each check writes ----------------------------------------------------------------

    @abstractmethod
    def expected(self) -> str:
        """The condition the statistic must meet, for a person (e.g. ``in [0, 120]``)."""

    @abstractmethod
    def observe(self, column: AnyColumn) -> Observation:
        """The statistic on a column of an accepted kind, and whether it passes."""

    @classmethod
    @abstractmethod
    def example(cls, column: str) -> Self:
        """A typical instance on `column` (used by docs and the contract tests)."""

    def patterns(self) -> tuple[str, ...]:
        """Regular expressions this check needs counted while profiling."""
        return ()

    def label(self) -> str:
        """The statistic's name in messages (a check with a parameter may name it here)."""
        return self.statistic

    # -- shared machinery ----------------------------------------------------------------------

    def run(self, profile: DatasetProfile) -> CheckResult:
        """Evaluate on a profile. Never raises for a missing column, a wrong kind or a statistic
        that cannot be computed: the check fails and the message says why."""
        column = profile.columns.get(self.column)
        if column is None:
            reason = profile.skipped.get(self.column)
            if reason is not None:
                return self.result(Observation.unavailable(f"column was not profiled: {reason}"))
            return self.result(Observation.unavailable("column is not in the data"))
        if self.kinds is not None and column.kind not in self.kinds:
            wanted = " or ".join(sorted(k.value for k in self.kinds))
            found = (
                "unknown (it has no typed values, e.g. all null)"
                if column.kind is ColumnKind.UNKNOWN
                else column.kind.value
            )
            return self.result(
                Observation.unavailable(f"column is {found}; {self.type} needs a {wanted} column")
            )
        try:
            observation = self.observe(column)
        except VigilError as exc:
            observation = Observation.unavailable(exc.message)
        return self.result(observation)

    def result(self, observation: Observation) -> CheckResult:
        expected = self.expected()
        if observation.value is None:
            message = f"{self.column}: {self.label()} unavailable: {observation.note}"
        else:
            message = (
                f"{self.column}: {self.label()} = {fmt(observation.value)}, expected {expected}"
            )
            if observation.note:
                message += f" ({observation.note})"
        return CheckResult(
            type=self.type,
            column=self.column,
            severity=self.severity,
            passed=observation.passed,
            expected=expected,
            observed=observation.value,
            message=message,
        )

    def to_dict(self) -> dict[str, Any]:
        """The check as plain data: ``type`` first, then its parameters (the YAML form); a bound
        left out (None) is omitted."""
        return {"type": self.type, **self.model_dump(mode="json", exclude_none=True)}

    def __str__(self) -> str:
        return f"{self.type}({self.column}): {self.expected()} [{self.severity}]"


class RangeCheck(Check):
    """A statistic that must lie in ``[min, max]``; either bound may be left out (unbounded)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("give at least one of 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({fmt(self.min)}) is greater than 'max' ({fmt(self.max)})")
        return self

    def expected(self) -> str:
        if self.min is not None and self.max is not None:
            return f"in [{fmt(self.min)}, {fmt(self.max)}]"
        if self.min is not None:
            return f">= {fmt(self.min)}"
        return f"<= {fmt(self.max)}"

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def judge(self, value: float, note: str = "") -> Observation:
        return Observation(value, self.contains(value), note)


def describe_errors(exc: ValidationError, cls: type[Check]) -> str:
    """Pydantic's errors as one sentence per problem: the key, the value, what is allowed."""
    allowed = ", ".join(cls.model_fields)
    parts: list[str] = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        msg = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown parameter {loc!r} (parameters of {cls.type}: {allowed})")
        elif error["type"] == "missing":
            parts.append(f"missing parameter {loc!r}")
        elif loc:
            parts.append(f"parameter {loc!r}: {msg}, got {error['input']!r}")
        else:
            parts.append(msg)
    return "; ".join(parts)
