"""Issue 3: drift between two 1M-row x 25-column Parquet files, Vigil against Evidently 0.7 and
NannyML, and which columns each tool flags against drift planted in known columns.

    .venv/bin/python benchmarks/bench_drift.py                        # 1M rows, median of 3
    .venv/bin/python benchmarks/bench_drift.py --rows 20000 --repeats 1   # smoke run

Contenders, each in a fresh process (peak RSS is its own):

- vigil-cli: `vigil drift REF.parquet CUR.parquet --format json -o OUT` run by the child as a
  subprocess (the CLI end to end: interpreter start, imports, profiling both files, comparing);
- vigil-profiles: `vigil.drift` on two stored `.vgp` profiles, made beforehand outside the timing
  with `vigil profile`; the timed phase loads both files and compares them;
- evidently: both files read to pandas, then `Report([DataDriftPreset()]).run(...)`
  (Evidently 0.7, in benchmarks/.venv-peers);
- nannyml: both files read to pandas (or the first `--nannyml-rows` rows of each), then
  `UnivariateDriftCalculator` with its default methods and chunking, fitted on the reference and
  run on the current data.

The data (reference and current, same generator, different seeds) has drift planted in six of
the 25 columns (`PLANTED`); the report lists which columns each tool flags.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import (
    PEERS_PYTHON,
    REPO,
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
VIGIL_CLI = REPO / ".venv" / "bin" / "vigil"
SEED = 20_261_123
N_NUMERIC = 20
CARDINALITIES = (5, 50, 500, 5_000, 10_000)
NULL_SHARES = (0.0, 0.01, 0.05)
DATA_VERSION = 1

TARGET_SPEEDUP = 5.0
TARGET_MEMORY_SHARE = 0.5
TARGET_PROFILE_SECONDS = 1.0

# The truth: what the current file changes, column by column; every other column is drawn from
# the same distribution as in the reference (an independent sample).
PLANTED = {
    "x00": "mean + 0.1 std (normal)",
    "x04": "mean + 0.1 std (lognormal)",
    "x06": "variance x 1.3 (normal)",
    "x08": "missing share 5% -> 15% (uniform)",
    "c5": "10% of the top category's rows moved to the second (0.40/0.30 -> 0.36/0.34)",
    "c50": "new category in 5% of rows",
}
C5_SHARES = (0.40, 0.30, 0.15, 0.10, 0.05)
LOGNORMAL_STD = 2.1611974158950877  # std of lognormal(0, 1): sqrt((e - 1) e)


# ---------------------------------------------------------------------------------------- data


def numeric_names() -> list[str]:
    return [f"x{i:02d}" for i in range(N_NUMERIC)]


def string_names() -> list[str]:
    return [f"c{c}" for c in CARDINALITIES]


def all_names() -> list[str]:
    return numeric_names() + string_names()


def build_dataset(path: Path, rows: int, current: bool) -> None:
    """20 float64 columns (normal, lognormal, uniform; 0, 1 or 5% nulls) and 5 string columns of
    cardinality 5 to 10,000 (1% nulls); the current file (its own seed) with `PLANTED` applied."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED + int(current))
    arrays: dict[str, pa.Array] = {}
    for i, name in enumerate(numeric_names()):
        shape = i % 3
        if shape == 0:
            loc, scale = float(i), 1.0 + i
            values = rng.normal(loc=loc, scale=scale, size=rows)
            if current and name == "x00":
                values += 0.1 * scale
            if current and name == "x06":
                values = loc + (values - loc) * np.sqrt(1.3)
        elif shape == 1:
            values = rng.lognormal(mean=0.0, sigma=1.0, size=rows)
            if current and name == "x04":
                values += 0.1 * LOGNORMAL_STD
        else:
            values = rng.uniform(-100.0, 100.0, size=rows)
        null_share = NULL_SHARES[(i // 3) % len(NULL_SHARES)]
        if current and name == "x08":
            null_share += 0.10
        nulls = rng.random(rows) < null_share
        arrays[name] = pa.array(values, mask=nulls)
    for cardinality, name in zip(CARDINALITIES, string_names(), strict=True):
        if name == "c5":
            weights = np.asarray(C5_SHARES)
        else:
            weights = 1.0 / np.arange(1, cardinality + 1) ** 0.8
        codes = rng.choice(cardinality, size=rows, p=weights / weights.sum())
        labels = [f"{name}_v{j:05d}" for j in range(cardinality)]
        if current and name == "c5":
            top = np.flatnonzero(codes == 0)
            codes[top[rng.random(top.size) < 0.10]] = 1
        if current and name == "c50":
            labels.append(f"{name}_new")
            codes[rng.random(rows) < 0.05] = cardinality
        nulls = rng.random(rows) < 0.01
        arrays[name] = pa.array(labels).take(pa.array(np.where(nulls, -1, codes), mask=nulls))
    # pyarrow's defaults, as `DataFrame.to_parquet` would write it.
    pq.write_table(pa.table(arrays), path)


def data_files(rows: int) -> tuple[Path, Path]:
    """Both files, built if missing, each in a subprocess: a child forked from a parent that
    once held the data would report the parent's memory high-water mark as its own peak RSS."""

    def build(path: Path, role: str) -> None:
        command = [sys.executable, str(SCRIPT), "build", str(path), str(rows), role]
        subprocess.run(command, check=True)

    def one(role: str) -> Path:
        return dataset_path(
            f"drift-{role}-{rows}rows-seed{SEED}-v{DATA_VERSION}.parquet",
            lambda p: build(p, role),
        )

    return one("reference"), one("current")


# -------------------------------------------------------------------------------------- children


def _vigil_columns(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per column: flagged, the method and statistic, effect size, missing-share change and
    new-category share, from Vigil's JSON report."""
    found = {}
    for name, column in report["columns"].items():
        found[name] = {
            "flagged": bool(column["drifted"]),
            "method": column["method"],
            "value": column["statistic"],
            "effect": column["effect_size"],
            "missing_change": column["missing_share"]["change"],
            "new_share": column.get("new_category_share") or 0.0,
        }
    for name in report.get("skipped", {}) or {}:
        found.setdefault(name, {"flagged": False, "method": "skipped"})
    return found


def child_vigil_cli(args: Sequence[str]) -> dict[str, Any]:
    import resource

    reference, current = args[0], args[1]
    with tempfile.TemporaryDirectory(prefix="vigil-bench-drift-") as tmp:
        out = Path(tmp) / "drift.json"
        command = [str(VIGIL_CLI), "drift", reference, current, "--format", "json", "-o", str(out)]
        with Timer() as work:
            done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1: the dataset drifts
            raise SystemExit(f"vigil drift failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads(out.read_text())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        **phase_times(None, work),
        # The CLI process's own CPU time (the child's Timer sees only the waiting parent).
        "work_cpu_s": usage.ru_utime + usage.ru_stime,
        "cli_max_rss_bytes": usage.ru_maxrss * 1024,
        "exit_code": done.returncode,
        "versions": versions("vigil", "numpy", "scipy", "pyarrow", "datasketches"),
        "dataset_drift": report["dataset_drift"],
        "columns": _vigil_columns(report),
    }


def child_vigil_profiles(args: Sequence[str]) -> dict[str, Any]:
    with Timer() as imports:
        import vigil
        from vigil.profile import DatasetProfile

    with Timer() as work:
        reference = DatasetProfile.from_bytes(Path(args[0]).read_bytes())
        current = DatasetProfile.from_bytes(Path(args[1]).read_bytes())
        report = vigil.drift(reference, current)
    return {
        **phase_times(None, work),
        "import_s": imports.seconds,
        "versions": versions("vigil", "numpy", "scipy", "pyarrow", "datasketches"),
        "source": loaded_source_digest(),
        "profile_bytes": Path(args[0]).stat().st_size + Path(args[1]).stat().st_size,
        "dataset_drift": report.dataset_drift,
        "columns": _vigil_columns(json.loads(report.to_json())),
    }


def child_evidently(args: Sequence[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    # Evidently 0.7 lives in .venv-peers.
    from evidently import Report  # type: ignore[import-not-found]
    from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]

    with Timer() as read:
        reference = pq.read_table(args[0]).to_pandas()
        current = pq.read_table(args[1]).to_pandas()
    with Timer() as work:
        # include_tests: Evidently's own per-column verdict (a test per ValueDrift metric).
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=current, reference_data=reference
        )
    result = snapshot.dict()
    values = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            values[config["column"]] = (config["method"], float(metric["value"]))
    columns: dict[str, dict[str, Any]] = {}
    dataset_drift = None
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if params.get("type", "").endswith("ValueDrift"):
            name = params["column"]
            method, value = values[name]
            columns[name] = {"flagged": test["status"] == "FAIL", "method": method, "value": value}
        elif params.get("type", "").endswith("DriftedColumnsCount"):
            dataset_drift = test["status"] == "FAIL"
    return {
        **phase_times(read, work),
        "versions": versions("evidently", "numpy", "scipy", "pandas", "pyarrow"),
        "dataset_drift": dataset_drift,
        "columns": columns,
    }


def child_nannyml(args: Sequence[str]) -> dict[str, Any]:
    import nannyml as nml  # type: ignore[import-not-found]  # lives in .venv-peers
    import pyarrow.parquet as pq

    limit = int(args[2])
    with Timer() as read:
        reference = pq.read_table(args[0]).slice(0, limit).to_pandas()
        current = pq.read_table(args[1]).slice(0, limit).to_pandas()
    with Timer() as work:
        calculator = nml.UnivariateDriftCalculator(column_names=list(reference.columns))
        calculator.fit(reference)
        results = calculator.calculate(current).filter(period="analysis").to_df()
    columns = {}
    for name in reference.columns:
        methods = sorted({m for c, m, _ in results.columns if c == name})
        for method in methods:
            alerts = results[(name, method, "alert")].astype(bool)
            columns[name] = {
                "flagged": bool(alerts.any()),
                "method": method,
                "chunks_alerting": int(alerts.sum()),
                "chunks": int(alerts.size),
                "value": float(results[(name, method, "value")].max()),
                "upper_threshold": float(results[(name, method, "upper_threshold")].iloc[0]),
            }
    return {
        **phase_times(read, work),
        "versions": versions("nannyml", "numpy", "scipy", "pandas", "pyarrow"),
        "rows": len(reference),
        "columns": columns,
    }


HANDLERS = {
    "vigil-cli": child_vigil_cli,
    "vigil-profiles": child_vigil_profiles,
    "evidently": child_evidently,
    "nannyml": child_nannyml,
}


# ---------------------------------------------------------------------------------------- parent


REQUIRED = ("vigil-cli", "vigil-profiles", "evidently")


def make_profiles(reference: Path, current: Path, folder: Path) -> tuple[Path, Path, float]:
    """Both files profiled with `vigil profile` (outside the timing); returns the paths and the
    seconds it took, for the record."""
    import time

    started = time.perf_counter()
    paths = []
    for source in (reference, current):
        target = folder / (source.stem + ".vgp")
        subprocess.run(
            [str(VIGIL_CLI), "profile", str(source), "-o", str(target)],
            check=True,
            capture_output=True,
        )
        paths.append(target)
    return paths[0], paths[1], time.perf_counter() - started


def contenders(
    reference: Path, current: Path, ref_vgp: Path, cur_vgp: Path, nannyml_rows: int
) -> list[Contender]:
    files = (str(reference), str(current))
    return [
        Contender("vigil-cli", "vigil drift (CLI, Parquet files)", VIGIL_PYTHON, SCRIPT, files),
        Contender(
            "vigil-profiles",
            "vigil.drift on two stored profiles",
            VIGIL_PYTHON,
            SCRIPT,
            (str(ref_vgp), str(cur_vgp)),
        ),
        Contender("evidently", "Evidently 0.7 DataDriftPreset", PEERS_PYTHON, SCRIPT, files),
        Contender(
            "nannyml",
            "NannyML UnivariateDriftCalculator",
            PEERS_PYTHON,
            SCRIPT,
            (*files, str(nannyml_rows)),
        ),
    ]


@dataclass(frozen=True)
class Check:
    """One ratio of the issue's targets: `value` against `target` in direction `better`."""

    label: str
    value: float
    cpu_value: float
    target: float | None = None
    better: str = "higher"
    strict: bool = False
    """`value < target` rather than `<=` ("under a second" against "at most half")."""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.better == "higher":
            return self.value >= self.target
        return self.value < self.target if self.strict else self.value <= self.target

    def row(self) -> list[object]:
        sign = ">=" if self.better == "higher" else "<" if self.strict else "<="
        verdict = {None: "", True: "met", False: "**missed**"}[self.met]
        target = f"{sign} {self.target:g}" if self.target is not None else ""
        return [self.label, self.value, self.cpu_value, target, verdict]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):.{digits}f}"


def flags_table(measured: Mapping[str, Measurement]) -> str:
    """Which columns each tool flags, beside the planted truth."""
    vigil_cols = measured["vigil-cli"].last("columns")
    tools: list[tuple[str, Mapping[str, Any]]] = [("Vigil", vigil_cols)]
    if "evidently" in measured:
        tools.append(("Evidently 0.7", measured["evidently"].last("columns")))
    if "nannyml" in measured:
        tools.append(("NannyML", measured["nannyml"].last("columns")))
    rows = []
    for name in all_names():
        row: list[object] = [name, PLANTED.get(name, "none")]
        v = vigil_cols.get(name, {})
        cell = "**drift**" if v.get("flagged") else "-"
        extras = []
        if v.get("effect") is not None:
            extras.append(f"effect {_fmt(v['effect'])}")
        if abs(v.get("missing_change") or 0.0) >= 0.01:
            extras.append(f"missing {v['missing_change']:+.3f}")
        if (v.get("new_share") or 0.0) > 0:
            extras.append(f"new categories {v['new_share']:.3f}")
        row.append(f"{cell} ({', '.join(extras)})" if extras else cell)
        for label, cols in tools[1:]:
            c = cols.get(name)
            if c is None:
                row.append("not compared")
                continue
            cell = "**drift**" if c["flagged"] else "-"
            if label == "NannyML":
                detail = (
                    f"max JS {_fmt(c['value'])} vs {_fmt(c['upper_threshold'])}, "
                    f"{c['chunks_alerting']}/{c['chunks']} chunks"
                )
            else:
                detail = f"{_fmt(c['value'])}"
            row.append(f"{cell} ({detail})")
        rows.append(row)
    header = ["column", "planted change", *(label for label, _ in tools)]
    summary: list[object] = ["**flagged / planted caught / false alarms**", ""]
    for _, cols in tools:
        flagged = {n for n, c in cols.items() if c.get("flagged")}
        caught = len(flagged & set(PLANTED))
        summary.append(
            f"{len(flagged)} / {caught} of {len(PLANTED)} / {len(flagged - set(PLANTED))}"
        )
    rows.append(summary)
    return markdown_table(header, rows)


def summarise(
    rows: int,
    repeats: int,
    nannyml_rows: int,
    machine: Machine,
    measured: Mapping[str, Measurement],
    files: tuple[Path, Path],
    profile_seconds: float,
    revision: str,
) -> tuple[str, dict[str, Any]]:
    def e2e(m: Measurement, cpu: bool = False) -> float:
        if cpu:
            return m.metric("read_cpu_s") + m.metric("work_cpu_s")
        return m.metric("read_s") + m.metric("work_s")

    cli, profiles, evidently = (measured[k] for k in REQUIRED)
    nanny = measured.get("nannyml")
    times = markdown_table(
        [
            "contender",
            "read s",
            "drift s",
            "read + drift s",
            "read + drift CPU s",
            "process wall s",
            "process CPU s",
            "peak RSS MiB, median",
            "peak RSS MiB, max",
        ],
        [
            [
                m.label + (f" ({nannyml_rows:,} rows per side)" if m.name == "nannyml" else ""),
                "(in drift)" if m.name.startswith("vigil") else m.metric("read_s"),
                m.metric("work_s"),
                e2e(m),
                e2e(m, cpu=True),
                m.wall_s,
                m.cpu_s,
                mib(m.median_rss_bytes),
                mib(m.max_rss_bytes),
            ]
            for m in measured.values()
        ],
    )
    checks = [
        Check(
            "Evidently / vigil CLI time, whole process (interpreter start and imports on both sides)",
            ratio(evidently.wall_s, cli.wall_s),
            ratio(evidently.cpu_s, cli.cpu_s),
            TARGET_SPEEDUP,
        ),
        Check(
            "Evidently read + run / vigil CLI whole process (Vigil's imports counted, Evidently's not)",
            ratio(e2e(evidently), e2e(cli)),
            ratio(e2e(evidently, True), e2e(cli, True)),
        ),
        Check(
            "vigil CLI / Evidently peak RSS (medians)",
            ratio(cli.median_rss_bytes, evidently.median_rss_bytes),
            float("nan"),
            TARGET_MEMORY_SHARE,
            "lower",
        ),
        Check(
            "vigil CLI / Evidently peak RSS (highest of all runs)",
            ratio(cli.max_rss_bytes, evidently.max_rss_bytes),
            float("nan"),
        ),
        Check(
            "stored profiles: load both + compare, seconds",
            profiles.metric("work_s"),
            profiles.metric("work_cpu_s"),
            TARGET_PROFILE_SECONDS,
            "lower",
            strict=True,
        ),
        Check(
            "stored profiles: whole process (imports included), seconds",
            profiles.wall_s,
            profiles.cpu_s,
        ),
    ]
    if nanny is not None and nannyml_rows >= rows:
        checks.append(
            Check(
                "NannyML / vigil CLI time, whole process",
                ratio(nanny.wall_s, cli.wall_s),
                ratio(nanny.cpu_s, cli.cpu_s),
            )
        )
    ratios = markdown_table(["measure", "wall", "CPU", "target", ""], [c.row() for c in checks])
    loads = [r.load_before for m in measured.values() for r in m.runs]
    tools = "; ".join(
        f"{label}: " + ", ".join(f"{k} {v}" for k, v in m.last("versions").items())
        for label, m in (("Vigil venv", profiles), ("peers venv", evidently))
    )
    if nanny is not None:
        tools += f"; nannyml {nanny.last('versions')['nannyml']}"
    verdicts = ", ".join(
        f"{m.label}: {m.last('dataset_drift')}"
        for m in measured.values()
        if m.last("columns") and "dataset_drift" in m.runs[-1].report
    )
    markdown = (
        f"### Drift: {rows:,} rows x {len(all_names())} columns against {rows:,} "
        f"(median of {repeats} runs, round-robin)\n\n"
        f"Machine: {machine.markdown()}; 1-minute load average before each run "
        f"{min(loads):.1f} to {max(loads):.1f}. Vigil commit {revision}. {tools}. "
        f"Profiles made beforehand with `vigil profile` in {profile_seconds:.1f} s (both files; "
        f"{profiles.last('profile_bytes'):,} bytes together).\n\n"
        f"{times}\n\n{ratios}\n\n"
        f"#### Which columns each tool flags\n\n{flags_table(measured)}\n\n"
        f"Dataset-level verdict (share of drifted columns >= 0.5): {verdicts}.\n"
    )
    payload = {
        "bench": "drift",
        "rows": rows,
        "repeats": repeats,
        "nannyml_rows": nannyml_rows,
        "machine": asdict(machine),
        "data": [str(f) for f in files],
        "planted": PLANTED,
        "revision": revision,
        "profile_seconds": profile_seconds,
        "checks": [{**asdict(c), "met": c.met} for c in checks],
        "measurements": {k: m.to_dict() for k, m in measured.items()},
        "markdown": markdown,
    }
    return markdown, payload


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--nannyml-rows",
        type=int,
        default=None,
        help="rows of each file NannyML gets (default: all)",
    )
    parser.add_argument("--only", nargs="*", choices=sorted(HANDLERS), help="run only these")
    options = parser.parse_args(argv)
    nannyml_rows = min(options.nannyml_rows or options.rows, options.rows)

    machine = Machine.here()
    reference, current = data_files(options.rows)
    revision = git_revision()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-drift-") as tmp:
        ref_vgp, cur_vgp, profile_seconds = make_profiles(reference, current, Path(tmp))
        wanted = [
            c
            for c in contenders(reference, current, ref_vgp, cur_vgp, nannyml_rows)
            if not options.only or c.name in options.only
        ]
        warm_file_cache(reference)
        warm_file_cache(current)
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
            print(json.dumps(m.last("columns"), indent=1))
        return 0
    markdown, payload = summarise(
        options.rows,
        options.repeats,
        nannyml_rows,
        machine,
        measured,
        (reference, current),
        profile_seconds,
        revision,
    )
    saved = write_results("drift", payload)
    print(markdown)
    print(f"results: {saved}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main(HANDLERS)
    elif len(sys.argv) == 5 and sys.argv[1] == "build":
        build_dataset(Path(sys.argv[2]), int(sys.argv[3]), current=sys.argv[4] == "current")
    else:
        sys.exit(main(sys.argv[1:]))
