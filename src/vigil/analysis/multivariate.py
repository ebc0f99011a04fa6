"""Multivariate drift on raw samples: what no per-column test sees (a changed relation between
columns). Two detectors, both fitted on the reference with scikit-learn:

- PCA reconstruction error: scaler + PCA keeping 90% of the variance, fitted on half of the
  reference; the other half calibrates the error. Drift when current rows reconstruct worse:
  the ratio of mean errors reaches the threshold (default 1.1) and a one-sided Mann-Whitney test
  is significant.
- Domain classifier: a gradient-boosted classifier learns to tell reference rows from current
  rows; the cross-validated ROC AUC is 0.5 when it cannot. Drift when AUC reaches the threshold
  (default 0.55).

scikit-learn is imported when a detector runs, so `import vigil` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy

from vigil.errors import InvalidInputError
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind

MultivariateMethod = Literal["pca_reconstruction", "domain_classifier"]

MAX_ROWS = 20_000
"""Rows sampled from each side (fixed seed) before fitting."""
TOP_CATEGORIES = 20
PCA_VARIANCE = 0.9
PCA_RATIO_THRESHOLD = 1.1
AUC_THRESHOLD = 0.55
ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class MultivariateDrift:
    """One multivariate detector's verdict. `statistic` is the error ratio (PCA) or the ROC AUC
    (classifier); `reference_value` is what no drift looks like (1.0 or 0.5)."""

    method: MultivariateMethod
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None
    reference_value: float
    rows: tuple[int, int]
    features: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "p_value": self.p_value,
            "reference_value": self.reference_value,
            "rows": list(self.rows),
            "features": self.features,
        }


def feature_matrices(
    reference: pa.Table, current: pa.Table, kinds: Mapping[str, ColumnKind]
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Numeric features for both sides, encoded from the reference: numeric as is (NaN kept),
    boolean as 0/1, categorical one-hot on the reference's most frequent categories."""
    ref_cols: list[FloatArray] = []
    cur_cols: list[FloatArray] = []
    names: list[str] = []
    for name, kind in kinds.items():
        if kind in (ColumnKind.NUMERIC, ColumnKind.BOOLEAN):
            ref_cols.append(_floats(reference.column(name)))
            cur_cols.append(_floats(current.column(name)))
            names.append(name)
        elif kind is ColumnKind.CATEGORICAL:
            ref_values = _strings(reference.column(name))
            cur_values = _strings(current.column(name))
            labels, counts = np.unique(ref_values[ref_values != None], return_counts=True)  # noqa: E711
            for label in labels[np.argsort(-counts, kind="stable")][:TOP_CATEGORIES]:
                ref_cols.append((ref_values == label).astype(np.float64))
                cur_cols.append((cur_values == label).astype(np.float64))
                names.append(f"{name}={label}")
    if not names:
        raise InvalidInputError(
            "multivariate drift needs at least one numeric, boolean or categorical column"
        )
    return np.column_stack(ref_cols), np.column_stack(cur_cols), names


def _floats(column: pa.ChunkedArray) -> FloatArray:
    values = pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    result: FloatArray = np.array(values, dtype=np.float64)
    result[~np.isfinite(result)] = np.nan
    return result


def _strings(column: pa.ChunkedArray) -> Any:
    return np.asarray(pc.cast(column, pa.large_string()).to_pylist(), dtype=object)


def _sample(x: FloatArray, n: int, rng: np.random.Generator) -> FloatArray:
    if x.shape[0] <= n:
        return x
    result: FloatArray = x[rng.choice(x.shape[0], n, replace=False)]
    return result


def _drop_empty(x_ref: FloatArray, x_cur: FloatArray) -> tuple[FloatArray, FloatArray]:
    keep = ~np.all(np.isnan(x_ref), axis=0)
    return x_ref[:, keep], x_cur[:, keep]


def pca_reconstruction(
    x_ref: FloatArray,
    x_cur: FloatArray,
    *,
    threshold: float = PCA_RATIO_THRESHOLD,
    random_state: int = 0,
) -> MultivariateDrift:
    """Mean reconstruction error of current rows over that of held-out reference rows."""
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_ref, x_cur = _drop_empty(x_ref, x_cur)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(x_ref.shape[0])
    half = x_ref.shape[0] // 2
    if half < 10 or x_cur.shape[0] < 10:
        raise InvalidInputError(
            "multivariate drift needs at least 20 reference and 10 current rows"
        )
    fit_rows, calibration = x_ref[order[:half]], x_ref[order[half:]]
    prep = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    prep.fit(fit_rows)
    components = min(x_ref.shape[1], half)
    pca = PCA(n_components=PCA_VARIANCE if components > 1 else None, random_state=random_state)
    pca.fit(prep.transform(fit_rows))

    def errors(x: FloatArray) -> FloatArray:
        z = prep.transform(x)
        back = pca.inverse_transform(pca.transform(z))
        result: FloatArray = np.mean((z - back) ** 2, axis=1)
        return result

    cal, cur = errors(calibration), errors(x_cur)
    base = float(np.mean(cal))
    ratio = float(np.mean(cur)) / base if base > 0 else (1.0 if np.mean(cur) == 0 else np.inf)
    p = float(scipy.stats.mannwhitneyu(cur, cal, alternative="greater").pvalue)
    return MultivariateDrift(
        "pca_reconstruction",
        ratio,
        threshold,
        bool(ratio >= threshold and p < ALPHA),
        p,
        1.0,
        (int(x_ref.shape[0]), int(x_cur.shape[0])),
        int(x_ref.shape[1]),
    )


def domain_classifier(
    x_ref: FloatArray,
    x_cur: FloatArray,
    *,
    threshold: float = AUC_THRESHOLD,
    folds: int = 5,
    random_state: int = 0,
) -> MultivariateDrift:
    """Cross-validated ROC AUC of a classifier telling current rows from reference rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import (
        StratifiedKFold,
        cross_val_score,
    )
    from threadpoolctl import threadpool_limits

    x_ref, x_cur = _drop_empty(x_ref, x_cur)
    if min(x_ref.shape[0], x_cur.shape[0]) < folds * 2:
        raise InvalidInputError(
            f"the domain classifier needs at least {folds * 2} rows on each side"
        )
    x = np.vstack([x_ref, x_cur])
    y = np.concatenate([np.zeros(x_ref.shape[0]), np.ones(x_cur.shape[0])])
    model = HistGradientBoostingClassifier(max_iter=100, random_state=random_state)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    # One OpenMP thread: the model is small, and spinning threads on a busy machine (or beside
    # other processes) cost far more than they save.
    with threadpool_limits(limits=1, user_api="openmp"):
        auc = float(np.mean(cross_val_score(model, x, y, cv=cv, scoring="roc_auc")))
    return MultivariateDrift(
        "domain_classifier",
        auc,
        threshold,
        auc >= threshold,
        None,
        0.5,
        (int(x_ref.shape[0]), int(x_cur.shape[0])),
        int(x_ref.shape[1]),
    )


def multivariate_drift(
    reference: pa.Table,
    current: pa.Table,
    kinds: Mapping[str, ColumnKind],
    *,
    max_rows: int = MAX_ROWS,
    random_state: int = 0,
) -> tuple[MultivariateDrift, MultivariateDrift]:
    """Both detectors on up to `max_rows` rows sampled from each side."""
    x_ref, x_cur, _ = feature_matrices(reference, current, kinds)
    rng = np.random.default_rng(random_state)
    x_ref, x_cur = _sample(x_ref, max_rows, rng), _sample(x_cur, max_rows, rng)
    return (
        pca_reconstruction(x_ref, x_cur, random_state=random_state),
        domain_classifier(x_ref, x_cur, random_state=random_state),
    )
