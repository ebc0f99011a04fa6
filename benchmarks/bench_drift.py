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

The data is bench_drift_data.py, the comparison bench_drift_report.py; this file holds the
contenders and the command line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_drift_data import DATA_VERSION, SEED, build_dataset
from bench_drift_report import REQUIRED, summarise
from common import (
    PEERS_PYTHON,
    REPO,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Timer,
    child_main,
    dataset_path,
    git_revision,
    loaded_source_digest,
    measure_all,
    mib,
    phase_times,
    versions,
    warm_file_cache,
    write_results,
)

SCRIPT = Path(__file__).resolve()
VIGIL_CLI = REPO / ".venv" / "bin" / "vigil"


# ---------------------------------------------------------------------------------------- data


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
