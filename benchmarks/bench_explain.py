"""Issue 7: explaining 10k rows of a 200-tree gradient-boosting model, `vigil.explain` against
calling `shap` directly, in the same process.

    .venv/bin/python benchmarks/bench_explain.py                  # 10k rows, 3 processes x 5 rounds
    .venv/bin/python benchmarks/bench_explain.py --rows 2000 --repeats 1 --rounds 2   # smoke run

The model is scikit-learn's GradientBoostingClassifier (200 trees of depth 3, 20 numeric
features, binary), which shap's TreeExplainer reads natively, fitted once on 20k seeded rows and
kept (joblib) in benchmarks/data/. Each child process loads it and the 10k rows to explain,
warms both paths up once, then alternates, `--rounds` times:
- shap: `shap.TreeExplainer(model).shap_values(X)` (the explainer built inside the timing, as
  Vigil builds it on every call);
- vigil: `vigil.explain(model, X_frame)`: column selection, the same explainer, and on top the
  model's own output (`decision_function`) for every row, the base value and a typed result.
The parent reports the medians of wall and CPU time (CPU time moves much less when other work
shares the machine) and the overhead `vigil / shap - 1`; the target is at most 10%.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import (
    VIGIL_PYTHON,
    Contender,
    Machine,
    child_main,
    dataset_path,
    git_revision,
    load_average,
    loaded_source_digest,
    markdown_table,
    measure_all,
    versions,
    write_results,
)

SCRIPT = Path(__file__).resolve()
SEED = 20_261_123
N_FEATURES = 20
N_TRAIN = 20_000
N_TREES = 200


def build_data(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(N_TRAIN + rows, N_FEATURES))
    logit = x[:, 0] * 1.5 - x[:, 1] + 0.8 * x[:, 2] * x[:, 3] + 0.3 * x[:, 4:10].sum(axis=1)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    columns = {f"f{i:02d}": x[:, i] for i in range(N_FEATURES)}
    pq.write_table(pa.table({**columns, "label": y}), path)


def build_model(path: Path, data: Path) -> None:
    import joblib
    import pyarrow.parquet as pq
    from sklearn.ensemble import GradientBoostingClassifier

    frame = pq.read_table(data).to_pandas()
    train = frame.iloc[:N_TRAIN]
    model = GradientBoostingClassifier(n_estimators=N_TREES, max_depth=3, random_state=0)
    model.fit(train.drop(columns="label"), train["label"])
    joblib.dump(model, path)


def child(args: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(args)

    import joblib
    import numpy as np
    import pyarrow.parquet as pq
    import shap

    import vigil

    frame = pq.read_table(options.data).to_pandas().iloc[N_TRAIN:].drop(columns="label")
    matrix = frame.to_numpy(dtype=float)
    model = joblib.load(options.model)

    def direct() -> Any:
        return shap.TreeExplainer(model).shap_values(matrix)

    def ours() -> Any:
        return vigil.explain(model, frame)

    reference = direct()
    explained = ours()  # warm-up of both (imports, numba compilation)
    max_diff = float(np.max(np.abs(np.asarray(reference) - explained.contributions)))
    times: dict[str, list[float]] = {"shap": [], "vigil": []}
    cpu: dict[str, list[float]] = {"shap": [], "vigil": []}
    for i in range(options.rounds):
        order = [("shap", direct), ("vigil", ours)]
        for name, call in order if i % 2 == 0 else order[::-1]:
            started, cpu_started = time.perf_counter(), time.process_time()
            call()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    return {
        "rows": len(frame),
        "shap_s": statistics.median(times["shap"]),
        "vigil_s": statistics.median(times["vigil"]),
        "shap_cpu_s": statistics.median(cpu["shap"]),
        "vigil_cpu_s": statistics.median(cpu["vigil"]),
        "shap_all": times["shap"],
        "vigil_all": times["vigil"],
        "max_abs_diff": max_diff,
        "additivity_error": explained.additivity_error(),
        "algorithm": explained.algorithm,
        "output_space": explained.output_space,
        "load_after": load_average(),
        "versions": versions("shap", "numba", "numpy", "scikit-learn"),
        "source": loaded_source_digest(),
    }


HANDLERS = {"both": child}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="child processes")
    parser.add_argument("--rounds", type=int, default=5, help="timed calls of each per process")
    options = parser.parse_args()
    data = dataset_path(
        f"explain-gbc-{N_TRAIN}+{options.rows}rows-{N_FEATURES}f-seed{SEED}-v1.parquet",
        lambda p: build_data(p, options.rows),
    )
    model = dataset_path(
        f"explain-gbc-{N_TREES}trees-{N_TRAIN}+{options.rows}rows-seed{SEED}-v1.joblib",
        lambda p: build_model(p, data),
    )
    contender = Contender(
        "both",
        "vigil.explain and shap, alternating",
        VIGIL_PYTHON,
        SCRIPT,
        ("--data", str(data), "--model", str(model), "--rounds", str(options.rounds)),
    )
    measured = measure_all([contender], options.repeats)["both"]
    shap_s, vigil_s = measured.metric("shap_s"), measured.metric("vigil_s")
    shap_cpu, vigil_cpu = measured.metric("shap_cpu_s"), measured.metric("vigil_cpu_s")
    overheads = [float(r.report["vigil_s"]) / float(r.report["shap_s"]) - 1 for r in measured.runs]
    cpu_overheads = [
        float(r.report["vigil_cpu_s"]) / float(r.report["shap_cpu_s"]) - 1 for r in measured.runs
    ]
    machine = Machine.here()
    print(f"\n{machine.markdown()}; commit {git_revision()}\n")
    print(
        markdown_table(
            ["rows", "time", "shap TreeExplainer s", "vigil.explain s", "overhead", "max |diff|"],
            [
                [
                    measured.last("rows"),
                    "wall",
                    shap_s,
                    vigil_s,
                    f"{statistics.median(overheads):+.1%}",
                    f"{measured.last('max_abs_diff'):.1e}",
                ],
                [
                    measured.last("rows"),
                    "CPU",
                    shap_cpu,
                    vigil_cpu,
                    f"{statistics.median(cpu_overheads):+.1%}",
                    "",
                ],
            ],
        )
    )
    print(
        f"\nper process overhead, wall: {', '.join(f'{o:+.1%}' for o in overheads)}; CPU: "
        f"{', '.join(f'{o:+.1%}' for o in cpu_overheads)}; additivity error "
        f"{measured.last('additivity_error'):.1e} ({measured.last('output_space')}); "
        f"versions {measured.last('versions')}"
    )
    digests = {r.report["source"] for r in measured.runs}
    if len(digests) > 1:
        print(f"warning: the source changed during the runs ({digests})", file=sys.stderr)
    write_results(
        "explain",
        {
            "machine": machine.__dict__,
            "commit": git_revision(),
            "measurement": measured.to_dict(),
            "overheads": overheads,
            "cpu_overheads": cpu_overheads,
        },
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child_main(HANDLERS)
    else:
        main()
