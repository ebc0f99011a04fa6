"""Issue 6: estimated performance (CBPE) of Vigil against NannyML 0.13.1 on the same data.

    .venv/bin/python benchmarks/bench_cbpe.py                      # 50k reference, 8 x 25k, 3 runs
    .venv/bin/python benchmarks/bench_cbpe.py --window-rows 5000 --repeats 1   # smoke run

The data is a covariate-shift scenario (the one tests/performance/scenario.py describes): true
log-odds 2*x1 + x2, an over-confident model that sees only x1 (score = sigmoid(2.6*x1 + 0.2),
predicted class score >= 0.5), x1 shifted per window while P(y | x1) stays. One Parquet file holds
the reference period (labelled) and the analysis windows (labels kept for scoring only).

Contenders, each in a fresh process, each reading the same file, then fitting on the reference
and estimating ROC AUC and accuracy for each analysis window (timed together as `work_s`):
- vigil: `vigil.analysis.performance.estimation.CBPE` (isotonic calibration, expected confusion matrix);
- nannyml: `nannyml.CBPE(problem_type="classification_binary", calibration="isotonic")` with one
  chunk per window (in benchmarks/.venv-peers).
The parent computes the realized metrics with scikit-learn and reports each estimate's absolute
error beside NannyML's, and the time ratio.
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
SEED = 20_261_123
SHIFTS = (0.0, 0.0, 0.3, 0.6, 0.9, 1.2, -0.6, -1.2)


def build(path: Path, n_reference: int, n_window: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    parts = []
    for index, shift in enumerate((0.0, *SHIFTS)):
        n = n_reference if index == 0 else n_window
        x1 = rng.normal(shift, 1.0, n)
        x2 = rng.normal(0.0, 1.0, n)
        label = (rng.random(n) < 1 / (1 + np.exp(-(2 * x1 + x2)))).astype(np.int64)
        score = 1 / (1 + np.exp(-(2.6 * x1 + 0.2)))
        parts.append(
            pa.table(
                {
                    "window": np.full(n, index - 1, dtype=np.int64),  # -1: the reference
                    "score": score,
                    "pred": (score >= 0.5).astype(np.int64),
                    "label": label,
                }
            )
        )
    pq.write_table(pa.concat_tables(parts), path)


# ------------------------------------------------------------------------------------- children


def child_vigil(args: Sequence[str]) -> dict[str, Any]:
    import numpy as np
    import pyarrow.parquet as pq

    from vigil.analysis.performance.estimation import CBPE

    with Timer() as read:
        table = pq.read_table(args[0])
        window = table["window"].to_numpy()
        score = table["score"].to_numpy()
        pred = table["pred"].to_numpy()
        label = table["label"].to_numpy()
    estimates = []
    with Timer() as work:
        classes = ["0", "1"]
        ref = window == -1
        names = np.array(classes, dtype=object)
        estimator = CBPE.fit(names[label[ref]], score[ref], classes, "1")
        for w in range(int(window.max()) + 1):
            mask = window == w
            result = estimator.estimate(names[pred[mask]], score[mask])
            estimates.append({"roc_auc": result.roc_auc, "accuracy": result.accuracy})
    return {
        "estimates": estimates,
        **phase_times(read, work),
        "source": loaded_source_digest(),
        "versions": versions("numpy", "scipy"),
    }


def child_nannyml(args: Sequence[str]) -> dict[str, Any]:
    import pandas as pd
    from nannyml import CBPE

    with Timer() as read:
        frame = pd.read_parquet(args[0])
    with Timer() as work:
        reference = frame[frame["window"] == -1].reset_index(drop=True)
        analysis = frame[frame["window"] >= 0].drop(columns="label").reset_index(drop=True)
        n_window = int((analysis["window"] == 0).sum())
        estimator = CBPE(
            y_pred_proba="score",
            y_pred="pred",
            y_true="label",
            metrics=["roc_auc", "accuracy"],
            problem_type="classification_binary",
            calibration="isotonic",
            chunk_size=n_window,
        )
        estimator.fit(reference)
        result = estimator.estimate(analysis).filter(period="analysis").to_df()
    estimates = [
        {"roc_auc": float(a), "accuracy": float(b)}
        for a, b in zip(result[("roc_auc", "value")], result[("accuracy", "value")], strict=True)
    ]
    return {"estimates": estimates, **phase_times(read, work), "versions": versions("nannyml")}


# --------------------------------------------------------------------------------------- parent


def realized(path: Path) -> list[dict[str, float]]:
    import pyarrow.parquet as pq
    from sklearn.metrics import accuracy_score, roc_auc_score

    table = pq.read_table(path).to_pandas()
    out = []
    for w in range(int(table["window"].max()) + 1):
        part = table[table["window"] == w]
        out.append(
            {
                "roc_auc": float(roc_auc_score(part["label"], part["score"])),
                "accuracy": float(accuracy_score(part["label"], part["pred"])),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-rows", type=int, default=50_000)
    parser.add_argument("--window-rows", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    name = f"cbpe-{opts.reference_rows}-{opts.window_rows}-{SEED}-v1.parquet"
    path = dataset_path(name, lambda p: build(p, opts.reference_rows, opts.window_rows))
    contenders = [
        Contender("vigil", "Vigil CBPE", VIGIL_PYTHON, SCRIPT, (str(path),)),
        Contender("nannyml", "NannyML 0.13.1 CBPE", PEERS_PYTHON, SCRIPT, (str(path),)),
    ]
    results = measure_all(contenders, opts.repeats)
    truth = realized(path)
    vigil, nanny = results["vigil"], results["nannyml"]
    header, rows, errors = estimate_errors(
        truth,
        {"Vigil": vigil.last("estimates"), "NannyML": nanny.last("estimates")},
        {"roc_auc": "AUC", "accuracy": "acc"},
        [[str(w), f"{shift:+.1f}"] for w, shift in enumerate(SHIFTS)],
        ["window", "shift"],
    )
    print(f"\nMachine: {Machine.here().markdown()}; commit {git_revision()}")
    print(
        f"Data: {opts.reference_rows} reference rows, {len(SHIFTS)} windows of {opts.window_rows}"
    )
    print(markdown_table(header, rows))
    summary = []
    for who in ("Vigil", "NannyML"):
        for metric in ("roc_auc", "accuracy"):
            values = errors[who][metric]
            summary.append([who, metric, f"{max(values):.4f}", f"{sum(values) / len(values):.4f}"])
    print()
    print(markdown_table(["tool", "metric", "max abs error", "mean abs error"], summary))
    print()
    print(timing_table((vigil, nanny), "fit + estimate"))
    speed = ratio(nanny.metric("work_s"), vigil.metric("work_s"))
    cpu = ratio(nanny.metric("work_cpu_s"), vigil.metric("work_cpu_s"))
    print(f"\nNannyML / Vigil time (fit + estimate): wall {speed:.2f}x, CPU {cpu:.2f}x")
    out = write_results(
        "cbpe",
        {
            "machine": Machine.here().__dict__,
            "commit": git_revision(),
            "realized": truth,
            "errors": errors,
            "results": {k: m.to_dict() for k, m in results.items()},
        },
    )
    print(f"results: {out}", file=sys.stderr)
    print(json.dumps({"ratio_nannyml_over_vigil": speed}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main({"vigil": child_vigil, "nannyml": child_nannyml})
    else:
        main()
