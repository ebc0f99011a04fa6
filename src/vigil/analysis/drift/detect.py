"""`vigil.drift`: compare a current dataset with a reference, column by column.

Defaults (see docs/drift.md):

| kind        | test (threshold: p < 0.05 after BH) | effect size (must also pass)      |
|-------------|-------------------------------------|-----------------------------------|
| numeric     | Kolmogorov-Smirnov                  | Wasserstein on central 98% >= 0.05|
| categorical | chi-square                          | Jensen-Shannon distance >= 0.02   |
| boolean     | Z-test for proportions              | Jensen-Shannon distance >= 0.02   |

Both inputs raw and each at most `EXACT_MAX_ROWS` rows (or `exact=True`): statistics on the raw
values with SciPy. Otherwise: from the profiles (sketch error bounds reported per column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import scipy

from vigil.analysis.drift.base import DRIFT_KINDS, Counts, DriftMethod, MethodResult
from vigil.analysis.drift.effect import (
    EFFECT_NAMES,
    counts_effect,
    numeric_effect_exact,
    numeric_effect_from_profiles,
)
from vigil.analysis.drift.findings import ColumnDrift, DriftPath, Role
from vigil.analysis.drift.inputs import (
    counts_from_array,
    counts_from_profile,
    distribution,
    looks_like_identifier,
    missing_share,
    new_categories,
    new_category_share,
    values_from_array,
)
from vigil.analysis.drift.options import (
    ColumnOptions,
    Plan,
    check_threshold,
    column_roles,
    effect_thresholds,
    plan_column,
)
from vigil.analysis.drift.registry import get_method
from vigil.analysis.drift.report import DriftReport
from vigil.analysis.multivariate import MultivariateDrift, multivariate_drift
from vigil.errors import InvalidInputError
from vigil.io import open_source
from vigil.profile import DatasetProfile, profile
from vigil.profile.columns import AnyColumn, BooleanColumn, NumericColumn, StringColumn
from vigil.schema import ColumnKind

EXACT_MAX_ROWS = 100_000
"""Both inputs raw and each at most this many rows: the exact path (statistics on raw values)."""

DRIFT_SHARE = 0.5
"""The dataset drifts when at least this share of the compared columns drift."""

Correction = Literal["bh", "none"]

_SKIP_REASONS: Mapping[ColumnKind, str] = {
    ColumnKind.DATETIME: "datetime: time moves on between windows, so it always drifts; not compared",
    ColumnKind.TEXT: "free text: no distribution test; check its lengths and patterns with validation",
    ColumnKind.EMBEDDING: "embedding: compared only by multivariate drift",
    ColumnKind.UNKNOWN: "no typed values",
}


@dataclass(frozen=True, slots=True)
class _Side:
    profile: DatasetProfile
    data: Any | None  # raw data, reopened for the exact path and multivariate drift


def drift(
    reference: Any,
    current: Any,
    *,
    columns: Iterable[str] | None = None,
    method: str | None = None,
    threshold: float | None = None,
    per_column: Mapping[str, str | Mapping[str, Any] | ColumnOptions] | None = None,
    exact: bool | None = None,
    effect_threshold: float | Mapping[str, float] | None = None,
    drift_share: float = DRIFT_SHARE,
    correction: Correction = "bh",
    prediction_columns: Iterable[str] = (),
    target_columns: Iterable[str] = (),
    multivariate: bool = False,
    schema: Mapping[str, str | ColumnKind] | None = None,
    random_state: int = 0,
    charts: bool = True,
) -> DriftReport:
    """Compare `current` with `reference`; each is data (anything `vigil.profile` reads) or a
    `DatasetProfile`.

    `method` applies to every column whose kind it accepts (others keep their default), with
    `threshold` (a p-value level for tests, a distance for distances). `per_column` overrides
    either for named columns, e.g. ``{"age": "psi", "city": {"method": "js", "threshold": 0.2}}``.
    `exact` forces (True) or forbids (False) statistics on raw values; by default they are used
    when both inputs are raw with at most 100,000 rows each. `effect_threshold` (a number, or per
    kind: ``{"numeric": 0.1}``) is the effect size a significant test must also reach; 0 turns the
    gate off. Columns named in `prediction_columns` / `target_columns` are reported as prediction
    and target drift. `multivariate=True` adds PCA-reconstruction and domain-classifier drift
    (needs raw data; reads the compared columns of both inputs). `schema` forces column kinds,
    as in `vigil.profile`; the current data is otherwise read with the reference's kinds.
    `charts=False` leaves out each column's `distribution` (the shares `to_html` draws), for
    callers that keep only the figures: a monitor's tick, for one.

    >>> report = vigil.drift("train.parquet", "today.parquet")     # doctest: +SKIP
    >>> report.dataset_drift, report.columns["age"].p_value           # doctest: +SKIP
    """
    if method is not None:
        global_method: DriftMethod | None = get_method(method)
    else:
        global_method = None
    if threshold is not None:
        check_threshold(threshold, global_method, "threshold")
    overrides = {n: ColumnOptions.coerce(n, v) for n, v in (per_column or {}).items()}
    effects = effect_thresholds(effect_threshold)
    if not (isinstance(drift_share, int | float) and 0 < drift_share <= 1):
        raise InvalidInputError(
            f"drift_share must be in (0, 1], got {drift_share!r}", value=drift_share
        )
    if correction not in ("bh", "none"):
        raise InvalidInputError(
            f"correction must be 'bh' or 'none', got {correction!r}", value=correction
        )
    if exact not in (None, True, False):
        raise InvalidInputError(f"exact must be True, False or None, got {exact!r}")

    ref = _load(reference, schema)
    cur = _load(current, _current_schema(ref.profile, current, schema))

    names = _select(ref.profile, cur.profile, columns)
    roles = column_roles(names, prediction_columns, target_columns)
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise InvalidInputError(
            f"per_column names column(s) {unknown} that are not compared; compared: {names}",
            columns=unknown,
        )

    raw_available = ref.data is not None and cur.data is not None
    if exact is True and not raw_available:
        raise InvalidInputError(
            "exact=True needs raw data on both sides, but a DatasetProfile was given; pass the "
            "data itself or leave exact unset"
        )
    if multivariate and not raw_available:
        raise InvalidInputError(
            "multivariate drift needs raw data on both sides, but a DatasetProfile was given"
        )
    use_exact = bool(exact) or (
        exact is None
        and raw_available
        and max(ref.profile.n_rows, cur.profile.n_rows) <= EXACT_MAX_ROWS
    )
    path: DriftPath = "exact" if use_exact else "profile"

    skipped: dict[str, str] = {}
    plans: dict[str, tuple[ColumnKind, Plan]] = {}
    for name in names:
        kind, reason = _comparable(ref.profile.columns[name], cur.profile.columns[name])
        if reason:
            skipped[name] = reason
            continue
        plans[name] = (kind, plan_column(name, kind, global_method, threshold, overrides.get(name)))

    tables = _raw_tables(ref, cur, plans) if use_exact or multivariate else None
    figures: dict[str, dict[str, Any]] = {}
    for name, (kind, plan) in plans.items():
        figures[name] = _compare(
            name,
            kind,
            plan,
            ref.profile.columns[name],
            cur.profile.columns[name],
            tables if use_exact else None,
            effects[kind],
            roles.get(name, "feature"),
            path,
            charts,
        )
    results = _decide(figures, correction)

    compared = len(results)
    drifted = sum(c.drifted for c in results.values())
    share = drifted / compared if compared else 0.0
    multi: tuple[MultivariateDrift, ...] = ()
    if multivariate and tables is not None:
        multi = multivariate_drift(
            tables[0], tables[1], {n: k for n, (k, _) in plans.items()}, random_state=random_state
        )
    return DriftReport(
        columns=results,
        dataset_drift=compared > 0 and share >= drift_share,
        share_drifted=share,
        drift_share=float(drift_share),
        reference_rows=ref.profile.n_rows,
        current_rows=cur.profile.n_rows,
        path=path,
        correction=correction,
        skipped=skipped,
        multivariate=multi,
    )


# ------------------------------------------------------------------------------------- inputs


def _load(data: Any, schema: Mapping[str, str | ColumnKind] | None) -> _Side:
    if isinstance(data, DatasetProfile):
        return _Side(data, None)
    if isinstance(data, pa.RecordBatchReader):
        data = data.read_all()  # read once, used twice (profile and raw values)
    return _Side(profile(data, schema=schema), data)


def _current_schema(
    reference: DatasetProfile, current: Any, schema: Mapping[str, str | ColumnKind] | None
) -> dict[str, str | ColumnKind] | None:
    """Profile the current data with the reference's kinds, so both sides read columns alike."""
    if isinstance(current, DatasetProfile):
        return dict(schema) if schema else None
    if isinstance(current, pa.RecordBatchReader):
        names = set(current.schema.names)
    else:
        names = set(open_source(current).schema.names)
    forced: dict[str, str | ColumnKind] = {
        n: c.kind
        for n, c in reference.columns.items()
        if n in names and c.kind in (*DRIFT_KINDS, ColumnKind.TEXT)
    }
    forced.update({n: k for n, k in (schema or {}).items() if n in names})
    return forced or None


def _select(ref: DatasetProfile, cur: DatasetProfile, columns: Iterable[str] | None) -> list[str]:
    if columns is None:
        return [n for n in ref.columns if n in cur.columns]
    wanted = [columns] if isinstance(columns, str) else list(columns)
    missing = [n for n in wanted if n not in ref.columns or n not in cur.columns]
    if missing:
        shared = [n for n in ref.columns if n in cur.columns]
        raise InvalidInputError(
            f"column(s) {missing} are not in both datasets; columns in both: {shared}",
            columns=missing,
        )
    return wanted


def _comparable(ref: AnyColumn, cur: AnyColumn) -> tuple[ColumnKind, str | None]:
    kind = ref.kind
    if {ref.kind, cur.kind} == {ColumnKind.CATEGORICAL, ColumnKind.TEXT}:
        kind = ColumnKind.CATEGORICAL
    elif ref.kind != cur.kind:
        return kind, f"kind differs: {ref.kind.value} in reference, {cur.kind.value} in current"
    if kind not in DRIFT_KINDS:
        return kind, _SKIP_REASONS[kind]
    if isinstance(ref, NumericColumn) and isinstance(cur, NumericColumn):
        if ref.finite_count == 0 or cur.finite_count == 0:
            side = "reference" if ref.finite_count == 0 else "current"
            return kind, f"no finite values in the {side}"
    elif ref.count - ref.null_count == 0 or cur.count - cur.null_count == 0:
        side = "reference" if ref.count - ref.null_count == 0 else "current"
        return kind, f"no values in the {side}"
    if isinstance(ref, StringColumn) and looks_like_identifier(ref):
        return kind, f"looks like an identifier ({ref.distinct:,} distinct values)"
    return kind, None


_ARROW_TYPES: Mapping[ColumnKind, pa.DataType] = {
    ColumnKind.NUMERIC: pa.float64(),
    ColumnKind.CATEGORICAL: pa.string(),
    ColumnKind.BOOLEAN: pa.bool_(),
}


def _raw_tables(
    ref: _Side, cur: _Side, plans: Mapping[str, tuple[ColumnKind, Plan]]
) -> tuple[pa.Table, pa.Table]:
    types = {n: _ARROW_TYPES[k] for n, (k, _) in plans.items()}

    def read(data: Any) -> pa.Table:
        source = open_source(data, column_types=types)
        table = pa.Table.from_batches(list(source), schema=source.schema)
        return table.select([n for n in plans if n in table.column_names])

    return read(ref.data), read(cur.data)


# ---------------------------------------------------------------------------------- computing


def _counts(column: AnyColumn) -> Counts:
    if not isinstance(column, StringColumn | BooleanColumn):
        raise TypeError(f"expected a categorical or boolean column, got {column.kind.value}")
    return counts_from_profile(column)


def _run(
    method: DriftMethod,
    kind: ColumnKind,
    name: str,
    ref: AnyColumn,
    cur: AnyColumn,
    tables: tuple[pa.Table, pa.Table] | None,
) -> MethodResult:
    if kind is ColumnKind.NUMERIC:
        if tables is not None:
            x = values_from_array(tables[0].column(name))
            y = values_from_array(tables[1].column(name))
            assert method.numeric_exact is not None  # checked by DriftMethod
            return method.numeric_exact(x, y)
        if method.numeric_profile is None:
            raise InvalidInputError(
                f"method {method.name!r} needs raw data for numeric column {name!r}; pass the "
                "data instead of a profile, or pick a method with a profile path"
            )
        assert isinstance(ref, NumericColumn)
        assert isinstance(cur, NumericColumn)
        return method.numeric_profile(ref, cur)
    assert method.counts is not None
    if tables is not None:
        boolean = kind is ColumnKind.BOOLEAN
        return method.counts(
            counts_from_array(tables[0].column(name), boolean=boolean),
            counts_from_array(tables[1].column(name), boolean=boolean),
        )
    return method.counts(_counts(ref), _counts(cur))


def _effect(
    kind: ColumnKind,
    name: str,
    ref: AnyColumn,
    cur: AnyColumn,
    tables: tuple[pa.Table, pa.Table] | None,
) -> float:
    if kind is ColumnKind.NUMERIC:
        if tables is not None:
            return numeric_effect_exact(
                values_from_array(tables[0].column(name)), values_from_array(tables[1].column(name))
            )
        assert isinstance(ref, NumericColumn)
        assert isinstance(cur, NumericColumn)
        return numeric_effect_from_profiles(ref, cur)
    if tables is not None:
        boolean = kind is ColumnKind.BOOLEAN
        return counts_effect(
            counts_from_array(tables[0].column(name), boolean=boolean),
            counts_from_array(tables[1].column(name), boolean=boolean),
        )
    return counts_effect(_counts(ref), _counts(cur))


def _compare(
    name: str,
    kind: ColumnKind,
    plan: Plan,
    ref: AnyColumn,
    cur: AnyColumn,
    tables: tuple[pa.Table, pa.Table] | None,
    effect_threshold: float,
    role: Role,
    path: DriftPath,
    charts: bool,
) -> dict[str, Any]:
    """A column's figures: `ColumnDrift`'s fields but the decision (`_decide` adds it)."""
    result = _run(plan.method, kind, name, ref, cur, tables)
    if plan.method.is_test:
        effect_name, effect = EFFECT_NAMES[kind], _effect(kind, name, ref, cur, tables)
    else:
        effect_name, effect = plan.method.name, result.statistic
    fresh: tuple[Any, ...] = ()
    fresh_share = 0.0
    if isinstance(ref, StringColumn) and isinstance(cur, StringColumn):
        fresh = new_categories(ref, cur)
        fresh_share = new_category_share(ref, cur)
    return {
        "name": name,
        "kind": kind,
        "role": role,
        "method": plan.method.name,
        "statistic_type": plan.method.statistic_type,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "threshold": plan.threshold,
        "effect_size": effect,
        "effect_method": effect_name,
        "effect_threshold": effect_threshold if plan.method.is_test else None,
        "error_bound": result.error_bound,
        "path": path,
        "reference_missing_share": missing_share(ref),
        "current_missing_share": missing_share(cur),
        "new_categories": fresh,
        "new_category_share": fresh_share,
        "distribution": distribution(ref, cur) if charts else None,
    }


def _decide(results: dict[str, dict[str, Any]], correction: Correction) -> dict[str, ColumnDrift]:
    """Correct the p-values across columns (Benjamini-Hochberg), then decide each column (each
    `ColumnDrift` made once, with its decision)."""
    tested = [
        n
        for n, c in results.items()
        if c["statistic_type"] == "p_value"
        and c["p_value"] is not None
        and math.isfinite(c["p_value"])
    ]
    adjusted: dict[str, float] = {}
    if tested:
        ps = np.array([results[n]["p_value"] for n in tested], dtype=np.float64)
        fixed = scipy.stats.false_discovery_control(ps, method="bh") if correction == "bh" else ps
        adjusted = {n: float(v) for n, v in zip(tested, np.atleast_1d(fixed), strict=True)}
    out: dict[str, ColumnDrift] = {}
    for name, c in results.items():
        method = get_method(c["method"])
        if c["statistic_type"] == "p_value":
            p = adjusted.get(name)
            effect, bar = c["effect_size"], c["effect_threshold"]
            effect_ok = bar is None or (math.isfinite(effect) and effect >= bar)
            drifted = p is not None and method.exceeds(p, c["threshold"]) and effect_ok
            out[name] = ColumnDrift(**c, adjusted_p_value=p, drifted=drifted)
        else:
            drifted = method.exceeds(c["statistic"], c["threshold"])
            out[name] = ColumnDrift(**c, adjusted_p_value=None, drifted=drifted)
    return out
