"""Issue 2: profiling 1M rows x 25 columns, Vigil against whylogs 1.6 and a NumPy floor.

    .venv/bin/python benchmarks/bench_profile.py              # 1M rows, median of 3
    .venv/bin/python benchmarks/bench_profile.py --rows 20000 --repeats 1   # smoke run

Contenders, each in a fresh process (peak RSS is its own):

- floor: read the Parquet file with pyarrow, then one exact pass over every column (numeric:
  mean, variance, min, max with NumPy; strings: pyarrow value_counts);
- vigil-path: `vigil.profile(path)`, which streams record batches from the file;
- vigil-pandas: read the file to pandas, then `vigil.profile(df)`;
- whylogs: read the file to pandas, then `why.log(df)` (whylogs 1.6, in benchmarks/.venv-peers).

Every child reports its read and profile times separately, the serialized profile size, the
quantiles of each numeric column and the distinct count of each string column; the parent
compares those with exact values computed with NumPy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import (
    PEERS_PYTHON,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Measurement,
    Timer,
    child_main,
    dataset_path,
    git_revision,
    loaded_source_digest,
    markdown_table,
    measure_all,
    mib,
    phase_times,
    ratio,
    versions,
    warm_file_cache,
    write_results,
)

SCRIPT = Path(__file__).resolve()
SEED = 20_261_123
N_NUMERIC = 20
CARDINALITIES = (5, 50, 500, 5_000, 10_000)
NULL_SHARES = (0.0, 0.01, 0.05)
QS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
DATA_VERSION = 1

TARGET_SPEEDUP = 5.0
TARGET_MEMORY_SHARE = 0.5
TARGET_FLOOR_MULTIPLE = 3.0


# ---------------------------------------------------------------------------------------- data


def numeric_names() -> list[str]:
    return [f"x{i:02d}" for i in range(N_NUMERIC)]


def string_names() -> list[str]:
    return [f"cat{c}" for c in CARDINALITIES]


def build_dataset(path: Path, rows: int) -> None:
    """20 float64 columns (normal, lognormal, uniform; 0, 1 or 5% nulls) and 5 string columns
    of cardinality 5 to 10,000 (Zipf-like frequencies, 1% nulls), seeded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    arrays: dict[str, pa.Array] = {}
    for i, name in enumerate(numeric_names()):
        shape = i % 3
        if shape == 0:
            values = rng.normal(loc=i, scale=1.0 + i, size=rows)
        elif shape == 1:
            values = rng.lognormal(mean=0.0, sigma=1.0, size=rows)
        else:
            values = rng.uniform(-100.0, 100.0, size=rows)
        nulls = rng.random(rows) < NULL_SHARES[i % len(NULL_SHARES)]
        arrays[name] = pa.array(values, mask=nulls)
    for cardinality, name in zip(CARDINALITIES, string_names(), strict=True):
        weights = 1.0 / np.arange(1, cardinality + 1) ** 0.8
        # Every category appears at least once, so the true distinct count is the cardinality.
        codes = rng.choice(cardinality, size=rows, p=weights / weights.sum())
        codes[:cardinality] = rng.permutation(cardinality)
        labels = pa.array([f"{name}_v{j:05d}" for j in range(cardinality)])
        nulls = rng.random(rows) < 0.01
        nulls[:cardinality] = False
        arrays[name] = labels.take(pa.array(np.where(nulls, -1, codes), mask=nulls))
    # pyarrow's defaults, as `DataFrame.to_parquet` would write it.
    pq.write_table(pa.table(arrays), path)


def data_file(rows: int) -> Path:
    return dataset_path(
        f"profile-{rows}rows-seed{SEED}-v{DATA_VERSION}.parquet",
        lambda p: build_dataset(p, rows),
    )


# -------------------------------------------------------------------------------------- children


def child_floor(args: Sequence[str]) -> dict[str, Any]:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with Timer() as read:
        table = pq.read_table(args[0])
    with Timer() as work:
        checksum = 0.0
        for name in numeric_names():
            values = table.column(name).drop_null().to_numpy()
            stats = (values.mean(), values.var(ddof=1), values.min(), values.max())
            checksum += float(np.sum(stats))
        for name in string_names():
            checksum += len(pc.value_counts(table.column(name)))
    return {**phase_times(read, work), "checksum": checksum}


def _vigil_report(profile: Any) -> dict[str, Any]:
    return {
        "versions": versions("vigil", "numpy", "pyarrow", "pandas", "datasketches"),
        "source": loaded_source_digest(),
        "profile_bytes": len(profile.to_bytes()),
        "quantiles": {n: [profile.columns[n].quantile(q) for q in QS] for n in numeric_names()},
        "distinct": {n: float(profile.columns[n].distinct) for n in string_names()},
    }


def child_vigil_path(args: Sequence[str]) -> dict[str, Any]:
    import vigil

    with Timer() as work:
        profile = vigil.profile(args[0])
    return {**phase_times(None, work), **_vigil_report(profile)}


def child_vigil_pandas(args: Sequence[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import vigil

    with Timer() as read:
        frame = pq.read_table(args[0]).to_pandas()
    with Timer() as work:
        profile = vigil.profile(frame)
    return {**phase_times(read, work), **_vigil_report(profile)}


def child_whylogs(args: Sequence[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import whylogs as why  # type: ignore[import-not-found]  # lives in .venv-peers

    with Timer() as read:
        frame = pq.read_table(args[0]).to_pandas()
    with Timer() as work:
        view = why.log(frame).view()
    quantiles = {}
    for name in numeric_names():
        kll = view.get_column(name).get_metric("distribution").kll.value
        quantiles[name] = [float(v) for v in kll.get_quantiles(list(QS))]
    distinct = {
        name: float(view.get_column(name).get_metric("cardinality").hll.value.get_estimate())
        for name in string_names()
    }
    return {
        **phase_times(read, work),
        "versions": versions("whylogs", "numpy", "pyarrow", "pandas"),
        "profile_bytes": len(view.serialize()),
        "quantiles": quantiles,
        "distinct": distinct,
    }


HANDLERS = {
    "floor": child_floor,
    "vigil-path": child_vigil_path,
    "vigil-path-blas1": child_vigil_path,
    "vigil-pandas": child_vigil_pandas,
    "whylogs": child_whylogs,
}


# ---------------------------------------------------------------------------------------- parent


REQUIRED = ("floor", "vigil-path", "vigil-pandas", "whylogs")


def contenders(path: Path, diagnose: bool) -> list[Contender]:
    args = (str(path),)
    chosen = [
        Contender("floor", "floor (pyarrow read + NumPy pass)", VIGIL_PYTHON, SCRIPT, args),
        Contender("vigil-path", "vigil.profile(parquet path)", VIGIL_PYTHON, SCRIPT, args),
        Contender("vigil-pandas", "vigil.profile(pandas frame)", VIGIL_PYTHON, SCRIPT, args),
        Contender("whylogs", "whylogs 1.6 why.log(pandas frame)", PEERS_PYTHON, SCRIPT, args),
    ]
    if diagnose:
        # OpenBLAS starts a thread per core for np.dot; on a busy machine they spin and stall.
        chosen.insert(
            2,
            Contender(
                "vigil-path-blas1",
                "vigil.profile(path), OPENBLAS_NUM_THREADS=1",
                VIGIL_PYTHON,
                SCRIPT,
                args,
                (("OPENBLAS_NUM_THREADS", "1"),),
            ),
        )
    return chosen


def accuracy(
    path: Path, reports: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, dict[str, float]]:
    """Max rank error of the reported quantiles over all numeric columns, and the max relative
    error of the distinct counts, against exact values from the data; the worst over all runs
    (KLL compaction is randomised, so each run's sketch differs)."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    result: dict[str, dict[str, float]] = {
        name: {"max_rank_error": 0.0, "max_distinct_rel_error": 0.0} for name in reports
    }
    for column in numeric_names():
        values = np.sort(table.column(column).drop_null().to_numpy())
        n = values.size
        for name, runs in reports.items():
            for report in runs:
                estimates = np.asarray(report["quantiles"][column], dtype=np.float64)
                # An estimate's true rank is an interval when it ties; distance from q to it.
                lo = np.searchsorted(values, estimates, side="left") / n
                hi = np.searchsorted(values, estimates, side="right") / n
                qs = np.asarray(QS)
                error = float(np.max(np.maximum(np.maximum(lo - qs, qs - hi), 0.0)))
                result[name]["max_rank_error"] = max(result[name]["max_rank_error"], error)
    for column in string_names():
        exact = len(pc.unique(table.column(column).drop_null()))
        for name, runs in reports.items():
            for report in runs:
                error = abs(report["distinct"][column] - exact) / exact
                result[name]["max_distinct_rel_error"] = max(
                    result[name]["max_distinct_rel_error"], error
                )
    return result


@dataclass(frozen=True)
class Check:
    """One ratio of the issue's targets: `value` against `target` in direction `better`."""

    label: str
    value: float
    cpu_value: float
    target: float | None = None
    better: str = "higher"

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target

    def row(self) -> list[object]:
        sign = ">=" if self.better == "higher" else "<="
        verdict = {None: "", True: "met", False: "**missed**"}[self.met]
        target = f"{sign} {self.target:g}" if self.target is not None else ""
        return [self.label, self.value, self.cpu_value, target, verdict]


def summarise(
    rows: int,
    repeats: int,
    machine: Machine,
    measured: Mapping[str, Measurement],
    path: Path,
    revision: str,
) -> tuple[str, dict[str, Any]]:
    def e2e(m: Measurement, cpu: bool = False) -> float:
        if cpu:
            return m.metric("read_cpu_s") + m.metric("work_cpu_s")
        return m.metric("read_s") + m.metric("work_s")

    def work(m: Measurement, cpu: bool = False) -> float:
        return m.metric("work_cpu_s" if cpu else "work_s")

    floor, vpath, vpandas, why = (measured[k] for k in REQUIRED)
    acc = accuracy(
        path,
        {
            "vigil": [r.report for k in ("vigil-path", "vigil-pandas") for r in measured[k].runs],
            "whylogs": [r.report for r in why.runs],
        },
    )
    times = markdown_table(
        [
            "contender",
            "read s",
            "profile s",
            "read + profile s",
            "read + profile CPU s",
            "process wall s",
            "peak RSS MiB, median",
            "peak RSS MiB, max",
        ],
        [
            [
                m.label,
                "(streamed)" if m.name.startswith("vigil-path") else m.metric("read_s"),
                work(m),
                e2e(m),
                e2e(m, cpu=True),
                m.wall_s,
                mib(m.median_rss_bytes),
                mib(m.max_rss_bytes),
            ]
            for m in measured.values()
        ],
    )
    checks = [
        Check(
            "whylogs / vigil time, end to end (read + log vs. profile(path))",
            ratio(e2e(why), e2e(vpath)),
            ratio(e2e(why, True), e2e(vpath, True)),
            TARGET_SPEEDUP,
        ),
        Check(
            "whylogs / vigil time, log only (both given the same pandas frame)",
            ratio(work(why), work(vpandas)),
            ratio(work(why, True), work(vpandas, True)),
            TARGET_SPEEDUP,
        ),
        Check(
            "whylogs / vigil time, whole process (interpreter start and imports too)",
            ratio(why.wall_s, vpath.wall_s),
            ratio(why.cpu_s, vpath.cpu_s),
        ),
        Check(
            "vigil / whylogs peak RSS (medians), vigil.profile(path)",
            ratio(vpath.median_rss_bytes, why.median_rss_bytes),
            float("nan"),
            TARGET_MEMORY_SHARE,
            "lower",
        ),
        Check(
            "vigil / whylogs peak RSS (highest of all runs), vigil.profile(path)",
            ratio(vpath.max_rss_bytes, why.max_rss_bytes),
            float("nan"),
        ),
        Check(
            "vigil / whylogs peak RSS (medians), both from a pandas frame",
            ratio(vpandas.median_rss_bytes, why.median_rss_bytes),
            float("nan"),
        ),
        Check(
            "vigil.profile(path) / floor time",
            ratio(e2e(vpath), e2e(floor)),
            ratio(e2e(vpath, True), e2e(floor, True)),
            TARGET_FLOOR_MULTIPLE,
            "lower",
        ),
    ]
    ratios = markdown_table(["ratio", "wall", "CPU", "target", ""], [c.row() for c in checks])
    quality = markdown_table(
        ["", "vigil", "whylogs 1.6"],
        [
            [
                "serialized profile, bytes",
                int(vpath.last("profile_bytes")),
                int(why.last("profile_bytes")),
            ],
            [
                f"max rank error, 20 numeric columns x {len(QS)} quantiles, worst of all runs",
                f"{acc['vigil']['max_rank_error']:.4f}",
                f"{acc['whylogs']['max_rank_error']:.4f}",
            ],
            [
                "max relative error of distinct counts, 5 string columns, worst of all runs",
                f"{acc['vigil']['max_distinct_rel_error']:.4f}",
                f"{acc['whylogs']['max_distinct_rel_error']:.4f}",
            ],
        ],
    )
    loads = [r.load_before for m in measured.values() for r in m.runs]
    tools = "; ".join(
        f"{label}: " + ", ".join(f"{k} {v}" for k, v in m.last("versions").items())
        for label, m in (("Vigil venv", vpath), ("peers venv", why))
    )
    markdown = (
        f"### Profiling {rows:,} rows x {N_NUMERIC + len(CARDINALITIES)} columns "
        f"(median of {repeats} runs, round-robin)\n\n"
        f"Machine: {machine.markdown()}; 1-minute load average before each run "
        f"{min(loads):.1f} to {max(loads):.1f}. Vigil commit {revision}. {tools}.\n\n"
        f"{times}\n\n{ratios}\n\n{quality}\n"
    )
    payload = {
        "bench": "profile",
        "rows": rows,
        "repeats": repeats,
        "machine": asdict(machine),
        "data": str(path),
        "revision": revision,
        "checks": [{**asdict(c), "met": c.met} for c in checks],
        "accuracy": acc,
        "measurements": {k: m.to_dict() for k, m in measured.items()},
        "markdown": markdown,
    }
    return markdown, payload


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(HANDLERS), help="run only these")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run vigil.profile(path) with OPENBLAS_NUM_THREADS=1",
    )
    options = parser.parse_args(argv)

    machine = Machine.here()
    path = data_file(options.rows)
    wanted = [
        c for c in contenders(path, options.diagnose) if not options.only or c.name in options.only
    ]
    warm_file_cache(path)
    revision = git_revision()
    measured = measure_all(wanted, options.repeats)
    sources = {
        r.report["source"] for m in measured.values() for r in m.runs if "source" in r.report
    }
    if len(sources) > 1:
        revision = f"{revision} (VIGIL'S CODE CHANGED DURING THE RUN: rerun before quoting)"
        print(f"warning: Vigil's code changed during the run: {revision}", file=sys.stderr)
    if not set(REQUIRED) <= set(measured):
        for m in measured.values():
            print(f"{m.label}: {m.wall_s:.2f} s, {mib(m.max_rss_bytes):.0f} MiB")
        return 0
    markdown, payload = summarise(options.rows, options.repeats, machine, measured, path, revision)
    saved = write_results("profile", payload)
    print(markdown)
    print(f"results: {saved}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main(HANDLERS)
    else:
        sys.exit(main(sys.argv[1:]))
