"""Issue 16: direct loss estimation (DLE) of Vigil against NannyML 0.13.1 on the same data.

    .venv/bin/python benchmarks/bench_dle.py                      # 50k reference, 8 x 25k, 3 runs
    .venv/bin/python benchmarks/bench_dle.py --window-rows 5000 --repeats 1   # smoke run

The data is a regression model under covariate shift with a heteroscedastic loss. Features x1, x2
(numbers) and `plan` (a string: a, b or c). The truth is y = 2*x1 + 0.3*x1^2 + e(plan) + x2 +
noise with standard deviation 0.5 + 0.5*|x2| + 0.5*[plan = c]; the model predicts
2*x1 + e(plan) + 0.3 (it misses the curvature and x2). Per window, x1's mean, x2's spread and the
share of plan c move (SHIFTS), so the error moves while P(y | x, prediction) stays. One Parquet
file holds the reference period (labelled) and the analysis windows (labels for scoring only).

Contenders, each in a fresh process, each reading the same file, then fitting on the reference
and estimating MAE and RMSE for each analysis window (timed together as `work_s`; imports are
before the timer for both: NannyML imports LightGBM at `import nannyml`, the Vigil child imports
scikit-learn's ensemble module first):
- vigil: `vigil.analysis.performance.dle.DLE` (two HistGradientBoostingRegressor loss models on at
  most 20,000 reference rows, one thread);
- nannyml: `nannyml.DLE(metrics=["mae", "rmse"])` with one chunk per window (LightGBM defaults,
  all reference rows, every CPU);
- nannyml-1t: the same with OMP_NUM_THREADS=1, LightGBM on one thread as Vigil.
The parent computes the realized metrics with scikit-learn and reports each estimate's absolute
error beside NannyML's, the targets (error at most NannyML's + 0.01 of the realized metric's
range over the windows; at least 3x faster) and the time ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import (
    PEERS_PYTHON,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Timer,
    child_main,
    dataset_path,
    estimate_errors,
    git_revision,
    loaded_source_digest,
    markdown_table,
    measure_all,
    phase_times,
    ratio,
    timing_table,
    versions,
    write_results,
)

SCRIPT = Path(__file__).resolve()
SEED = 20_261_206
FEATURES = ("x1", "x2", "plan")
METRICS = ("mae", "rmse")
SHIFTS = (
    # (mean of x1, spread of x2, share of plan c)
    (0.0, 1.0, 0.2),
    (0.0, 1.0, 0.2),
    (0.5, 1.0, 0.2),
    (1.0, 1.0, 0.2),
    (-1.0, 1.0, 0.2),
    (0.0, 1.5, 0.2),
    (0.0, 1.0, 0.5),
    (1.0, 1.5, 0.5),
)
NANNYML_ENV = (("NML_DISABLE_USAGE_LOGGING", "1"),)
"""NannyML otherwise posts usage events (and retries them offline) inside fit and estimate."""


def build(path: Path, n_reference: int, n_window: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    parts = []
    for index, (mean, spread, share_c) in enumerate((SHIFTS[0], *SHIFTS)):
        n = n_reference if index == 0 else n_window
        x1 = rng.normal(mean, 1.0, n)
        x2 = rng.normal(0.0, spread, n)
        plan = rng.choice(np.array(["a", "b", "c"]), n, p=[0.8 - share_c, 0.2, share_c])
        effect = np.select([plan == "a", plan == "b"], [0.0, 1.0], -1.0)
        noise = rng.normal(0.0, 1.0, n) * (0.5 + 0.5 * np.abs(x2) + 0.5 * (plan == "c"))
        parts.append(
            pa.table(
                {
                    "window": np.full(n, index - 1, dtype=np.int64),  # -1: the reference
                    "x1": x1,
                    "x2": x2,
                    "plan": plan,
                    "pred": 2 * x1 + effect + 0.3,
                    "label": 2 * x1 + 0.3 * x1**2 + effect + x2 + noise,
                }
            )
        )
    pq.write_table(pa.concat_tables(parts), path)


# ------------------------------------------------------------------------------------- children


def child_vigil(args: Sequence[str]) -> dict[str, Any]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import sklearn.ensemble  # noqa: F401  (imported before the timer, as NannyML's LightGBM)
    import threadpoolctl  # noqa: F401

    from vigil.analysis.performance.dle import DLE

    with Timer() as read:
        table = pq.read_table(args[0])
        window = table["window"].to_numpy()
    estimates = []
    with Timer() as work:
        reference = table.filter(pc.equal(table["window"], -1))
        estimator = DLE.fit(
            reference.select(list(FEATURES)),
            reference["label"].to_numpy(),
            reference["pred"].to_numpy(),
        )
        for w in range(int(window.max()) + 1):
            part = table.filter(pc.equal(table["window"], w))
            result = estimator.estimate(part.select(list(FEATURES)), part["pred"].to_numpy())
            estimates.append({"mae": result.mae, "rmse": result.rmse})
    return {
        "estimates": estimates,
        "n_fitted": estimator.n_fitted,
        "iterations": [estimator.absolute.n_iter_, estimator.squared.n_iter_],
        **phase_times(read, work),
        "source": loaded_source_digest(),
        "versions": versions("numpy", "scikit-learn"),
    }


def child_nannyml(args: Sequence[str]) -> dict[str, Any]:
    import pandas as pd
    from nannyml import DLE

    with Timer() as read:
        frame = pd.read_parquet(args[0])
    with Timer() as work:
        reference = frame[frame["window"] == -1].reset_index(drop=True)
        analysis = frame[frame["window"] >= 0].drop(columns="label").reset_index(drop=True)
        n_window = int((analysis["window"] == 0).sum())
        estimator = DLE(
            feature_column_names=list(FEATURES),
            y_pred="pred",
            y_true="label",
            metrics=list(METRICS),
            chunk_size=n_window,
        )
        estimator.fit(reference)
        result = estimator.estimate(analysis).filter(period="analysis").to_df()
    estimates = [
        {"mae": float(a), "rmse": float(b)}
        for a, b in zip(result[("mae", "value")], result[("rmse", "value")], strict=True)
    ]
    return {
        "estimates": estimates,
        **phase_times(read, work),
        "versions": versions("nannyml", "lightgbm"),
    }


# --------------------------------------------------------------------------------------- parent


def realized(path: Path) -> list[dict[str, float]]:
    import numpy as np
    import pyarrow.parquet as pq
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    table = pq.read_table(path).to_pandas()
    out = []
    for w in range(int(table["window"].max()) + 1):
        part = table[table["window"] == w]
        out.append(
            {
                "mae": float(mean_absolute_error(part["label"], part["pred"])),
                "rmse": float(np.sqrt(mean_squared_error(part["label"], part["pred"]))),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-rows", type=int, default=50_000)
    parser.add_argument("--window-rows", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    name = f"dle-{opts.reference_rows}-{opts.window_rows}-{SEED}-v1.parquet"
    path = dataset_path(name, lambda p: build(p, opts.reference_rows, opts.window_rows))
    contenders = [
        Contender("vigil", "Vigil DLE", VIGIL_PYTHON, SCRIPT, (str(path),)),
        Contender("nannyml", "NannyML 0.13.1 DLE", PEERS_PYTHON, SCRIPT, (str(path),), NANNYML_ENV),
        Contender(
            "nannyml-1t",
            "NannyML 0.13.1 DLE, 1 thread",
            PEERS_PYTHON,
            SCRIPT,
            (str(path),),
            (*NANNYML_ENV, ("OMP_NUM_THREADS", "1")),
        ),
    ]
    results = measure_all(contenders, opts.repeats)
    truth = realized(path)
    vigil, nanny, nanny1 = results["vigil"], results["nannyml"], results["nannyml-1t"]
    header, rows, errors = estimate_errors(
        truth,
        {"Vigil": vigil.last("estimates"), "NannyML": nanny.last("estimates")},
        dict(zip(METRICS, ("MAE", "RMSE"), strict=True)),
        [
            [str(w), "x1 {:+.1f}, x2 sd {:.1f}, c {:.1f}".format(*shift)]
            for w, shift in enumerate(SHIFTS)
        ],
        ["window", "shift"],
    )
    print(f"\nMachine: {Machine.here().markdown()}; commit {git_revision()}")
    print(
        f"Data: {opts.reference_rows} reference rows, {len(SHIFTS)} windows of "
        f"{opts.window_rows}; Vigil fitted on {vigil.last('n_fitted')} rows, "
        f"{vigil.last('iterations')} boosting rounds (MAE, RMSE model)"
    )
    print(markdown_table(header, rows))
    summary = []
    verdicts = {}
    for metric in METRICS:
        values = [r[metric] for r in truth]
        allowance = 0.01 * (max(values) - min(values))
        ours, theirs = errors["Vigil"][metric], errors["NannyML"][metric]
        mean_ours, mean_theirs = sum(ours) / len(ours), sum(theirs) / len(theirs)
        verdicts[metric] = mean_ours <= mean_theirs + allowance
        for who, e in (("Vigil", ours), ("NannyML", theirs)):
            summary.append([who, metric, f"{max(e):.4f}", f"{sum(e) / len(e):.4f}"])
        summary.append(
            [
                "target",
                metric,
                f"{max(theirs) + allowance:.4f}",
                f"<= {mean_theirs + allowance:.4f} ({'met' if verdicts[metric] else 'NOT met'})",
            ]
        )
    print()
    print(markdown_table(["tool", "metric", "max abs error", "mean abs error"], summary))
    print()
    print(timing_table((vigil, nanny, nanny1), "fit + estimate"))
    speed = ratio(nanny.metric("work_s"), vigil.metric("work_s"))
    speed1 = ratio(nanny1.metric("work_s"), vigil.metric("work_s"))
    cpu = ratio(nanny.metric("work_cpu_s"), vigil.metric("work_cpu_s"))
    print(
        f"\nNannyML / Vigil time (fit + estimate): wall {speed:.2f}x (NannyML on one thread: "
        f"{speed1:.2f}x), CPU {cpu:.2f}x"
    )
    out = write_results(
        "dle",
        {
            "machine": Machine.here().__dict__,
            "commit": git_revision(),
            "realized": truth,
            "errors": errors,
            "accuracy_targets_met": verdicts,
            "results": {k: m.to_dict() for k, m in results.items()},
        },
    )
    print(f"results: {out}", file=sys.stderr)
    print(json.dumps({"ratio_nannyml_over_vigil": speed, "ratio_one_thread": speed1}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main({"vigil": child_vigil, "nannyml": child_nannyml, "nannyml-1t": child_nannyml})
    else:
        main()
