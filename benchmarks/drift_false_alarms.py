"""The full statistical-quality protocol of issue 3 for `vigil.drift` defaults.

No drift: two samples of one distribution, 25 columns of mixed kinds (tests/analysis/drift/
_data.py), 210 repetitions per size: a pool of 21 independent samples, every pair compared once
(each repetition is a valid no-drift comparison; the pool keeps 1M rows affordable). Reported:
the share of columns flagged (defaults, Benjamini-Hochberg across columns) and, for reference,
without the correction. Profile path at 1k, 10k, 100k and 1M rows; exact path (raw data, the
default up to 100k rows) at 1k, 10k and 100k.

Real drift at 100k and 1M rows: mean shift of 0.1 std, variance x1.3, 10% of one category's mass
moved to another, on 5 seeds each: the share detected.

    python benchmarks/drift_false_alarms.py [--sizes 1000 10000 100000 1000000] [--pool 21]

Prints a Markdown table (recorded in docs/drift.md).

`--ks` and `--sketch` run the KS p-value studies of issue 19 instead (benchmarks/ks_study.py,
benchmarks/ks_sketch_study.py).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analysis.drift._data import DRIFTED_COLUMN, null_table, with_drift

from vigil.analysis.drift import DriftReport, drift
from vigil.profile import profile

COLUMNS = 25


def _uncorrected(report: DriftReport) -> int:
    flagged = 0
    for c in report.columns.values():
        if c.statistic_type == "p_value":
            gate = c.effect_threshold is None or c.effect_size >= c.effect_threshold
            flagged += c.p_value is not None and c.p_value < c.threshold and gate
        else:
            flagged += c.drifted
    return flagged


def no_drift(n: int, pool: int, exact: bool, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    samples: list[Any] = [null_table(n, seed + k) for k in range(pool)]
    if not exact:
        samples = [profile(s) for s in samples]
    flagged = uncorrected = reps = 0
    per_column: dict[str, int] = {}
    for i, j in itertools.combinations(range(pool), 2):
        report = drift(samples[i], samples[j], exact=True if exact else None)
        reps += 1
        flagged += len(report.drifted_columns)
        uncorrected += _uncorrected(report)
        for name in report.drifted_columns:
            per_column[name] = per_column.get(name, 0) + 1
    return {
        "rows": n,
        "path": "exact" if exact else "profile",
        "repetitions": reps,
        "share_flagged": flagged / (reps * COLUMNS),
        "share_flagged_uncorrected": uncorrected / (reps * COLUMNS),
        "worst_column": max(per_column.items(), key=lambda kv: kv[1]) if per_column else None,
        "seconds": time.perf_counter() - started,
    }


def real_drift(n: int, seeds: int) -> list[dict[str, Any]]:
    rows = []
    for kind, column in DRIFTED_COLUMN.items():
        hits = {"exact": 0, "profile": 0}
        others = {"exact": 0, "profile": 0}
        for s in range(seeds):
            reference, current = null_table(n, 900 + 2 * s), null_table(n, 901 + 2 * s)
            changed = with_drift(current, kind, seed=s)
            paths = {"profile": drift(profile(reference), profile(changed))}
            if n <= 100_000:
                paths["exact"] = drift(reference, changed)
            for path, report in paths.items():
                hits[path] += column in report.drifted_columns
                others[path] += len(set(report.drifted_columns) - {column})
        rows.append(
            {
                "rows": n,
                "change": kind,
                "column": column,
                "seeds": seeds,
                **{
                    f"detected_{p}": hits[p] / seeds for p in hits if n <= 100_000 or p == "profile"
                },
                "other_columns_flagged": sum(others.values()),
            }
        )
    return rows


# ----------------------------------------------------------------------- the KS p-value study


from ks_sketch_study import sketch_study  # noqa: E402
from ks_study import ks_study  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--pool", type=int, default=21)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--ks", action="store_true", help="run the KS p-value study instead")
    parser.add_argument("--reps", type=int, default=1_000, help="--ks: pairs per cell")
    parser.add_argument("--timing-calls", type=int, default=300, help="--ks: D's timed per size")
    parser.add_argument(
        "--sketch", action="store_true", help="run the profile-path sketch-error study instead"
    )
    parser.add_argument(
        "--large-reps", type=int, default=60, help="--sketch: pairs at 40,000 and 1M rows (0: none)"
    )
    parser.add_argument(
        "--max-en", type=float, default=math.inf, help="--sketch: only cells up to this en"
    )
    args = parser.parse_args()
    if args.sketch:
        if args.reps < 10 or args.large_reps < 0:
            parser.error(
                f"--reps must be >= 10 and --large-reps >= 0, got {args.reps} and {args.large_reps}"
            )
        sketch_study(args.reps, args.large_reps, args.max_en)
        return
    if args.ks:
        if args.reps < 10 or not 6 <= args.timing_calls <= 2 * args.reps:
            parser.error(
                "--reps must be >= 10 and --timing-calls from 6 to 2 x --reps, got "
                f"{args.reps} and {args.timing_calls}"
            )
        ks_study(args.reps, args.timing_calls)
        return
    print(
        "| rows | path | repetitions | columns flagged (BH) | without BH | most flagged column | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for exact in (False, True):
            if exact and n > 100_000:
                continue
            r = no_drift(n, args.pool, exact, seed=n + (1 if exact else 0))
            worst = f"{r['worst_column'][0]} ({r['worst_column'][1]})" if r["worst_column"] else "-"
            print(
                f"| {n:,} | {r['path']} | {r['repetitions']} | {r['share_flagged']:.2%} | "
                f"{r['share_flagged_uncorrected']:.2%} | {worst} | {r['seconds']:.0f} |",
                flush=True,
            )
    print()
    print(
        "| rows | change | column | detected (exact path) | detected (profile path) | other columns flagged |"
    )
    print("|---|---|---|---|---|---|")
    for n in (100_000, 1_000_000):
        if n not in args.sizes:
            continue
        for r in real_drift(n, args.seeds):
            exact = f"{r['detected_exact']:.0%}" if "detected_exact" in r else "n/a (> 100k rows)"
            print(
                f"| {n:,} | {r['change']} | {r['column']} | {exact} | {r['detected_profile']:.0%} | "
                f"{r['other_columns_flagged']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
