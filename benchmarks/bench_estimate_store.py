"""Issue 16: label-free estimation through the store, end to end, against NannyML's CBPE.

    .venv/bin/python benchmarks/bench_estimate_store.py                 # 300,000 rows, 3 runs
    .venv/bin/python benchmarks/bench_estimate_store.py --rows 40000 --repeats 1   # smoke run

The data: 300,000 predictions of a binary classifier spread over the four quarters of 2025
(75,000 a quarter), two features, a score and the predicted class; the first quarter is the
labelled reference, the next three are shifted (the covariate-shift scenario of bench_cbpe.py:
true log-odds 2*x1 + x2, an over-confident model that sees only x1).

Contenders, each in a fresh process reading the same Parquet file (the read is not timed):
- vigil: what a user does with an embedded store. `Client.local` on a new SQLite store and
  artifacts folder, `create_model`, `log` per quarter (profiles of every column per day, and the
  prediction rows), `log_labels` for the reference quarter, then
  `client.performance.estimated(..., window="quarter")`: CBPE calibrated on the first quarter,
  estimated per quarter. Timed: log + labels + estimate.
- nannyml: `CBPE(problem_type="classification_binary", calibration="isotonic",
  chunk_period="Q")` fitted on the first quarter's rows and estimating the rest, in pandas.
  Timed: fit + estimate. NannyML keeps nothing: Vigil's figure includes storing every row.
The parent reports each estimate beside the realized ROC AUC and accuracy (scikit-learn), and
the time ratio.
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
)

SCRIPT = Path(__file__).resolve()
SEED = 20_261_206
SHIFTS = (0.0, 0.4, 0.8, -0.8)
"""The shift of x1 per quarter of 2025; the first quarter is the reference."""
QUARTERS = ("2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01", "2026-01-01")


def build(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    per = rows // len(SHIFTS)
    parts = []
    for index, shift in enumerate(SHIFTS):
        begin = np.datetime64(QUARTERS[index], "us").astype(np.int64)
        end = np.datetime64(QUARTERS[index + 1], "us").astype(np.int64)
        ts = np.sort(rng.integers(begin, end, per))
        x1 = rng.normal(shift, 1.0, per)
        x2 = rng.normal(0.0, 1.0, per)
        label = (rng.random(per) < 1 / (1 + np.exp(-(2 * x1 + x2)))).astype(np.int64)
        score = 1 / (1 + np.exp(-(2.6 * x1 + 0.2)))
        parts.append(
            pa.table(
                {
                    "id": pa.array([f"r{index}-{i}" for i in range(per)]),
                    "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                    "x1": x1,
                    "x2": x2,
                    "score": score,
                    "pred": (score >= 0.5).astype(np.int64),
                    "label": label,
                    "quarter": np.full(per, index, dtype=np.int64),
                }
            )
        )
    pq.write_table(pa.concat_tables(parts), path)


# ------------------------------------------------------------------------------------- children


def child_vigil(args: Sequence[str]) -> dict[str, Any]:
    import datetime as dt
    import tempfile

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import vigil

    with Timer() as read:
        table = pq.read_table(args[0])
    bounds = [dt.datetime.fromisoformat(q).replace(tzinfo=dt.UTC) for q in QUARTERS]
    with tempfile.TemporaryDirectory() as folder, Timer() as work:
        client = vigil.Client.local(f"sqlite:///{folder}/vigil.db", f"{folder}/artifacts")
        client.create_model(
            "bench",
            features=["x1", "x2"],
            predictions=["pred"],
            scores=["score"],
            id_column="id",
            timestamp_column="ts",
            window="day",
        )
        for index in range(len(SHIFTS)):
            part = table.filter(pc.equal(table["quarter"], index))
            client.log("bench", part.select(["id", "ts", "x1", "x2", "score", "pred"]))
            if index == 0:
                client.log_labels("bench", part["id"], part["label"])
        client.flush()
        report = client.performance.estimated(
            "bench",
            reference_start=bounds[0],
            reference_end=bounds[1],
            window="quarter",
            start=bounds[1],
            end=bounds[-1],
        )
        client.close()
    estimates = [
        {"roc_auc": w["estimated"]["roc_auc"], "accuracy": w["estimated"]["accuracy"]}
        for w in report["windows"]
    ]
    return {
        "estimates": estimates,
        **phase_times(read, work),
        "source": loaded_source_digest(),
        "versions": versions("numpy", "pyarrow", "duckdb"),
    }


def child_nannyml(args: Sequence[str]) -> dict[str, Any]:
    import pandas as pd
    from nannyml import CBPE

    with Timer() as read:
        frame = pd.read_parquet(args[0])
    with Timer() as work:
        reference = frame[frame["quarter"] == 0].reset_index(drop=True)
        analysis = frame[frame["quarter"] > 0].drop(columns="label").reset_index(drop=True)
        estimator = CBPE(
            y_pred_proba="score",
            y_pred="pred",
            y_true="label",
            timestamp_column_name="ts",
            metrics=["roc_auc", "accuracy"],
            problem_type="classification_binary",
            calibration="isotonic",
            chunk_period="Q",
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

    frame = pq.read_table(path).to_pandas()
    out = []
    for index in range(1, len(SHIFTS)):
        part = frame[frame["quarter"] == index]
        out.append(
            {
                "roc_auc": float(roc_auc_score(part["label"], part["score"])),
                "accuracy": float(accuracy_score(part["label"], part["pred"])),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    path = dataset_path(
        f"estimate-store-{opts.rows}-{SEED}-v1.parquet", lambda p: build(p, opts.rows)
    )
    contenders = [
        Contender("vigil", "Vigil: log + labels + estimate", VIGIL_PYTHON, SCRIPT, (str(path),)),
        Contender(
            "nannyml", "NannyML 0.13.1 CBPE fit + estimate", PEERS_PYTHON, SCRIPT, (str(path),)
        ),
    ]
    results = measure_all(contenders, opts.repeats)
    truth = realized(path)
    vigil, nanny = results["vigil"], results["nannyml"]
    header, rows, _ = estimate_errors(
        truth,
        {"Vigil": vigil.last("estimates"), "NannyML": nanny.last("estimates")},
        {"roc_auc": "AUC", "accuracy": "acc"},
        [[QUARTERS[i][:7], f"{SHIFTS[i]:+.1f}"] for i in range(1, len(SHIFTS))],
        ["quarter from", "shift"],
    )
    print(f"\nMachine: {Machine.here().markdown()}; commit {git_revision()}")
    print(f"Data: {opts.rows:,} rows in {len(SHIFTS)} quarters; the first is the reference")
    print(markdown_table(header, rows))
    print()
    print(timing_table((vigil, nanny), "timed"))
    speed = ratio(nanny.metric("work_s"), vigil.metric("work_s"))
    cpu = ratio(nanny.metric("work_cpu_s"), vigil.metric("work_cpu_s"))
    print(f"\nNannyML / Vigil time: wall {speed:.2f}x, CPU {cpu:.2f}x")
    print(json.dumps({"ratio_nannyml_over_vigil": speed}), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main({"vigil": child_vigil, "nannyml": child_nannyml})
    else:
        main()
