"""Issue 9: profiling 100M rows x 25 columns from Parquet, on one machine and on Spark local[2].

    .venv/bin/python benchmarks/bench_scale.py                          # 100M rows, once each
    .venv/bin/python benchmarks/bench_scale.py --rows 2000000           # quick run
    .venv/bin/python benchmarks/bench_scale.py --rows 100000000 --only vigil-stream vigil-cores
    .venv/bin/python benchmarks/bench_scale.py build --rows 100000000   # only write the data

Contenders, each in a fresh process:

- vigil-stream: `vigil.profile(path, workers=1)`, one process streaming record batches;
- vigil-cores: `vigil.profile(path, workers=2)`, row groups shared by two forked processes;
- vigil-spark: `vigil.spark.profile(spark.read.parquet(path))` on Spark local[2];
- whylogs-spark: whylogs 1.6 `collect_dataset_profile_view(spark.read.parquet(path))` on the same
  Spark version with the same settings (`spark_settings()`), in benchmarks/.venv-peers.

The data (the 25 columns of bench_profile.py: 20 float64 and 5 strings) is written in 1M-row row
groups by a separate, niced process that never holds more than one row group; it also writes the
exact facts the results are checked against (row and null counts, means, exact quantiles of three
columns, distinct counts) next to the file.

Peak memory is sampled from outside: every 0.2 s the parent sums the RSS of the child and all its
descendants (the Spark JVM, Python workers, forked profilers) and keeps the highest sum. The
kernel's `wait4` peak (the largest single process) is reported next to it.

The data and its facts are bench_scale_data.py; running a child and sampling its process tree,
bench_scale_tree.py; this file holds the contenders, the comparison and the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_profile import CARDINALITIES, N_NUMERIC, QS, numeric_names, string_names
from bench_scale_data import EXACT_QUANTILE_COLUMNS, QUANTILE_GRID, build, data_path, facts_path
from bench_scale_tree import TreeRun, run_tree
from common import (
    PEERS_PYTHON,
    REPO,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Timer,
    child_main,
    git_revision,
    markdown_table,
    mib,
    ratio,
    versions,
    write_results,
)

SCRIPT = Path(__file__).resolve()
SPARK_MASTER = "local[2]"
SPARK_DRIVER_MEMORY = "1g"


def spark_settings() -> dict[str, str]:
    """The Spark configuration both Spark contenders run with (Spark's defaults otherwise)."""
    return {
        "spark.master": SPARK_MASTER,
        "spark.driver.memory": SPARK_DRIVER_MEMORY,
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
    }


# -------------------------------------------------------------------------------------- children


def _vigil_report(profile: Any) -> dict[str, Any]:
    columns = profile.columns
    return {
        "versions": versions("vigil", "numpy", "pyarrow", "pyspark", "datasketches"),
        "profile_bytes": len(profile.to_bytes()),
        "rows": int(profile.n_rows),
        "valid": {n: int(columns[n].count - columns[n].null_count) for n in columns},
        "means": {n: float(columns[n].mean) for n in numeric_names()},
        "quantiles": {n: [float(columns[n].quantile(q)) for q in QS] for n in numeric_names()},
        "distinct": {n: float(columns[n].distinct) for n in string_names()},
    }


def _whylogs_report(view: Any) -> dict[str, Any]:
    valid, means, quantiles, distinct = {}, {}, {}, {}
    rows = 0
    for name in [*numeric_names(), *string_names()]:
        column = view.get_column(name)
        counts = column.get_metric("counts")
        rows = int(counts.n.value)
        valid[name] = rows - int(counts.null.value)
        if name in numeric_names():
            dist = column.get_metric("distribution")
            means[name] = float(dist.mean.value)
            quantiles[name] = [float(v) for v in dist.kll.value.get_quantiles(list(QS))]
        else:
            distinct[name] = float(column.get_metric("cardinality").hll.value.get_estimate())
    return {
        "versions": versions("whylogs", "numpy", "pyarrow", "pandas", "pyspark"),
        "profile_bytes": len(view.serialize()),
        "rows": rows,
        "valid": valid,
        "means": means,
        "quantiles": quantiles,
        "distinct": distinct,
    }


def _timed(timer: Timer) -> dict[str, float]:
    return {"work_s": timer.seconds, "work_cpu_s": timer.cpu_seconds}


def child_vigil_stream(args: Sequence[str]) -> dict[str, Any]:
    import vigil

    with Timer() as work:
        profile = vigil.profile(args[0], workers=1)
    return {**_timed(work), **_vigil_report(profile)}


def child_vigil_cores(args: Sequence[str]) -> dict[str, Any]:
    import vigil

    with Timer() as work:
        profile = vigil.profile(args[0], workers=2)
    return {**_timed(work), **_vigil_report(profile)}


def _spark_session() -> Any:
    """A session with `spark_settings()`; executors run this interpreter."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("bench-scale")
    for key, value in spark_settings().items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _spark_facts(spark: Any) -> dict[str, Any]:
    conf = spark.sparkContext.getConf()
    heap = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
    return {
        "spark_version": spark.version,
        "spark_conf": {k: conf.get(k, "(default)") for k in spark_settings()},
        "jvm_max_heap_bytes": int(heap),
    }


def child_vigil_spark(args: Sequence[str]) -> dict[str, Any]:
    with Timer() as start:
        spark = _spark_session()
    from vigil import spark as vspark

    with Timer() as work:
        frame = spark.read.parquet(args[0])
        partitions = frame.rdd.getNumPartitions()
        profile = vspark.profile(frame)
    report = {
        **_timed(work),
        "start_s": start.seconds,
        "partitions": partitions,
        **_spark_facts(spark),
        **_vigil_report(profile),
    }
    spark.stop()
    return report


def child_whylogs_spark(args: Sequence[str]) -> dict[str, Any]:
    with Timer() as start:
        spark = _spark_session()
    from whylogs.api.pyspark.experimental import (  # type: ignore[import-not-found]  # .venv-peers
        collect_dataset_profile_view,
    )

    with Timer() as work:
        frame = spark.read.parquet(args[0])
        partitions = frame.rdd.getNumPartitions()
        view = collect_dataset_profile_view(frame)
    report = {
        **_timed(work),
        "start_s": start.seconds,
        "partitions": partitions,
        **_spark_facts(spark),
        **_whylogs_report(view),
    }
    spark.stop()
    return report


HANDLERS = {
    "vigil-stream": child_vigil_stream,
    "vigil-cores": child_vigil_cores,
    "vigil-spark": child_vigil_spark,
    "whylogs-spark": child_whylogs_spark,
}


# ---------------------------------------------------------------------------------------- parent


LABELS = {
    "vigil-stream": "Vigil, one process: vigil.profile(path, workers=1)",
    "vigil-cores": "Vigil, two processes: vigil.profile(path, workers=2)",
    "vigil-spark": "Vigil on Spark local[2]: vigil.spark.profile(df)",
    "whylogs-spark": "whylogs 1.6 on Spark local[2]: collect_dataset_profile_view(df)",
}


def contenders(path: Path) -> list[Contender]:
    args = (str(path),)
    return [
        Contender(
            name, LABELS[name], PEERS_PYTHON if "whylogs" in name else VIGIL_PYTHON, SCRIPT, args
        )
        for name in HANDLERS
    ]


def agreement(facts: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, float]:
    """How far a contender's profile is from the exact facts of the data."""
    import numpy as np

    grid = np.linspace(0.0, 1.0, QUANTILE_GRID)
    rank_error = 0.0
    for name in EXACT_QUANTILE_COLUMNS:
        sorted_values = np.asarray(facts["quantiles"][name]["grid"])
        ranks = np.interp(np.asarray(report["quantiles"][name]), sorted_values, grid)
        rank_error = max(rank_error, float(np.max(np.abs(ranks - np.asarray(QS)))))
    return {
        "rows_off": abs(int(report["rows"]) - int(facts["rows"])),
        "valid_off": max(abs(int(report["valid"][n]) - int(v)) for n, v in facts["valid"].items()),
        "mean_rel_error": max(
            abs(report["means"][n] - m) / abs(m) for n, m in facts["means"].items()
        ),
        "rank_error": rank_error,
        "distinct_rel_error": max(
            abs(report["distinct"][n] - d) / d for n, d in facts["distinct"].items()
        ),
    }


def summarise(
    rows: int, machine: Machine, runs: Mapping[str, TreeRun], path: Path, revision: str
) -> tuple[str, dict[str, Any]]:
    facts = json.loads(facts_path(path).read_text())
    checks = {name: agreement(facts, run.report) for name, run in runs.items()}
    table = markdown_table(
        [
            "contender",
            "profile s",
            "process wall s",
            "CPU s, all processes",
            "peak RSS MiB, all processes",
            "largest process MiB",
            "load before / after",
        ],
        [
            [
                LABELS[name],
                float(run.report["work_s"]),
                run.wall_s,
                run.tree_cpu_s,
                mib(run.tree_peak_rss_bytes),
                mib(run.wait4_max_rss_bytes),
                f"{run.load_before:.1f} / {run.load_after:.1f}",
            ]
            for name, run in runs.items()
        ],
    )
    quality = markdown_table(
        [
            "contender",
            "rows off",
            "non-null counts off (max)",
            "mean, max rel. error",
            f"max rank error, {len(EXACT_QUANTILE_COLUMNS)} columns x {len(QS)} quantiles",
            "distinct, max rel. error",
            "profile bytes",
        ],
        [
            [
                LABELS[name],
                int(c["rows_off"]),
                int(c["valid_off"]),
                f"{c['mean_rel_error']:.1e}",
                f"{c['rank_error']:.4f}",
                f"{c['distinct_rel_error']:.4f}",
                int(runs[name].report["profile_bytes"]),
            ]
            for name, c in checks.items()
        ],
    )
    ratios: list[list[object]] = []
    if "whylogs-spark" in runs and "vigil-spark" in runs:
        why, vig = runs["whylogs-spark"], runs["vigil-spark"]
        ratios += [
            [
                "whylogs / Vigil on Spark, profile time (in the driver)",
                ratio(float(why.report["work_s"]), float(vig.report["work_s"])),
            ],
            ["whylogs / Vigil on Spark, process wall time", ratio(why.wall_s, vig.wall_s)],
            [
                "whylogs / Vigil on Spark, CPU time of all processes",
                ratio(why.tree_cpu_s, vig.tree_cpu_s),
            ],
            [
                "whylogs / Vigil on Spark, peak RSS of all processes",
                ratio(why.tree_peak_rss_bytes, vig.tree_peak_rss_bytes),
            ],
        ]
    if "vigil-spark" in runs:
        for name in ("vigil-stream", "vigil-cores"):
            if name in runs:
                ratios.append(
                    [
                        f"Vigil on Spark / {LABELS[name].split(':')[0]}, process wall time",
                        ratio(runs["vigil-spark"].wall_s, runs[name].wall_s),
                    ]
                )
    for name in ("vigil-stream", "vigil-cores"):
        if name in runs:
            peak = runs[name].tree_peak_rss_bytes
            ratios.append(
                [
                    f"{LABELS[name].split(':')[0]}: peak RSS of all processes, GiB (target < 2)",
                    f"{peak / 2**30:.2f} ({'met' if peak < 2 * 2**30 else '**missed**'})",
                ]
            )
    any_run = next(iter(runs.values()))
    spark_run = runs.get("vigil-spark") or runs.get("whylogs-spark")
    shown = [n for n in runs if n.startswith("vigil")][:1] + [n for n in runs if "whylogs" in n]
    tools = "; ".join(
        f"{LABELS[name].split(':')[0]}: "
        + ", ".join(f"{k} {v}" for k, v in runs[name].report["versions"].items())
        for name in shown
    )
    spark_line = ""
    if spark_run is not None:
        heap = int(spark_run.report["jvm_max_heap_bytes"]) / 2**20
        spark_line = (
            f" Spark {spark_run.report['spark_version']}, "
            + ", ".join(f"`{k}={v}`" for k, v in spark_run.report["spark_conf"].items())
            + f" (JVM max heap {heap:,.0f} MiB), {spark_run.report['partitions']} input partitions."
        )
    busiest = max(max(run.load_before, run.load_after) for run in runs.values())
    markdown = (
        f"#### {rows:,} rows x {N_NUMERIC + len(CARDINALITIES)} columns, "
        f"{facts['bytes'] / 2**30:.1f} GiB of Parquet in {facts['row_groups']} row groups\n\n"
        f"Machine: {machine.markdown()}; highest load average seen {busiest:.1f} (the "
        f"contenders themselves use up to 2); every contender at nice "
        f"{any_run.nice}, one run each. Vigil commit {revision}. {tools}.{spark_line}\n\n"
        f"{table}\n\n"
        + (markdown_table(["ratio", "value"], ratios) + "\n\n" if ratios else "")
        + f"{quality}\n"
    )
    payload = {
        "bench": "scale",
        "rows": rows,
        "machine": asdict(machine),
        "data": str(path),
        "facts": {k: v for k, v in facts.items() if k != "quantiles"},
        "revision": revision,
        "agreement": checks,
        "runs": {name: asdict(run) for name, run in runs.items()},
        "markdown": markdown,
    }
    return markdown, payload


PROFILED_CODE = ("src/vigil/profile", "src/vigil/spark.py", "src/vigil/schema.py")


def code_digest() -> str:
    """A hash of the Vigil code the contenders run; compared before and after the runs, since
    the working tree is shared with people editing it."""
    import hashlib

    digest = hashlib.sha256()
    for entry in PROFILED_CODE:
        root = REPO / entry
        for file in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(str(file).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def ensure_data(rows: int) -> Path:
    """Build the data in a niced subprocess (so this process's own peak stays small: see the
    harness note in docs/benchmarks.md) unless it is there."""
    path = data_path(rows)
    if not (path.exists() and facts_path(path).exists()):
        subprocess.run(
            ["nice", "-n", "10", str(VIGIL_PYTHON), str(SCRIPT), "build", "--rows", str(rows)],
            check=True,
        )
    return path


def warm(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--only", nargs="*", choices=sorted(HANDLERS), help="run only these")
    options = parser.parse_args(argv)

    machine = Machine.here()
    path = ensure_data(options.rows)
    warm(path)
    revision = git_revision()
    digest = code_digest()
    runs: dict[str, TreeRun] = {}
    for contender in contenders(path):
        if options.only and contender.name not in options.only:
            continue
        run = run_tree(contender)
        runs[contender.name] = run
        print(
            f"  {contender.label:<66s} {run.wall_s:8.1f} s wall, {run.tree_cpu_s:8.1f} s CPU, "
            f"{mib(run.tree_peak_rss_bytes):7.0f} MiB tree peak, "
            f"load {run.load_before:.1f} -> {run.load_after:.1f}",
            file=sys.stderr,
            flush=True,
        )
    if code_digest() != digest:
        revision = f"{revision} (VIGIL'S CODE CHANGED DURING THE RUN: rerun before quoting)"
    markdown, payload = summarise(options.rows, machine, runs, path, revision)
    saved = write_results(f"scale-{options.rows}", payload)
    print(markdown)
    print(f"results: {saved}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child_main(HANDLERS)
    elif sys.argv[1:2] == ["build"]:
        parser = argparse.ArgumentParser(prog="bench_scale.py build")
        parser.add_argument("--rows", type=int, required=True)
        print(build(parser.parse_args(sys.argv[2:]).rows))
    else:
        sys.exit(main(sys.argv[1:]))
