"""Issue 19: the evaluation tick at fleet scale (1,000 models x 50 features, 3 monitors each).

    .venv/bin/python benchmarks/bench_fleet.py                      # 1,000 models, 30 days
    .venv/bin/python benchmarks/bench_fleet.py --models 50 --days 30  # quick run
    .venv/bin/python benchmarks/bench_fleet.py --profile-steady       # + cProfile of a warm tick
    .venv/bin/python benchmarks/bench_fleet.py --models 100 --before HEAD~3 --repeats 3

The store: a SQLite file in a temporary folder holding, per model, 50 features (45 numbers with
some missing values, 5 categories) in hourly windows over `--days` days. Each model's windows
are real profiles: `--shapes` representative hours per model (row counts around `--rows`,
varying by hour of day) are drawn from the model's own distributions and profiled with
`vigil.profile`; their blobs are stored for every hour of the period by bulk SQL inserts (the
windows the ingestion path would have written, `n_uploads` 1, as after compaction). Models and
monitors are created through the public API. Each model has three monitors:

- `drift-<i>`: data drift of its 50 features against its first day (a fixed period baseline;
  with `--drift-baseline trailing`, against the 24 windows before, merged by blocks:
  `vigil.monitor.blocks`; with `--drift-baseline hour`, against its first hour);
- `missing-<i>`: the largest missing-value share, with a threshold learned from the 24 windows
  before (trailing baseline, k=3);
- `volume-<i>`: rows per window, learned from the same hour in the 4 weeks before (the kind's
  defaults).

Every monitor has been evaluated up to the last stored hour, and its results of the last day are
stored (the grace period the tick checks for late data). Then, in one fresh process (as a server
after a restart):

1. one new hour arrives for every model (`client.log` of real rows, 10% of models drifted),
   and the **cold tick** evaluates it: empty caches, every baseline read, decoded and merged;
2. the next hour arrives, and the **steady tick** evaluates it: the caches (`EvaluationCache`)
   warm from the tick before, which is what a running server does every interval. The issue's
   target (60 s, 1.5 GB) is for this tick; a third tick repeats it.

Each tick's wall and CPU time, the windows it decoded and its own peak RSS (the kernel's high
water mark, reset before the tick: `/proc/self/clear_refs`) are reported, with the database size.
The database is deleted afterwards unless `--keep`.

`--before REV` (again for more) compares today's code with REV's, side by side: REV is checked
out with `git worktree add` into a temporary folder, each contender builds its own store with
its own code (the same seeds) and runs its three ticks in a child process whose `vigil` comes
from its own tree (PYTHONPATH), `--repeats` times round-robin, each run on a fresh copy of its
store. Ratios are after / before (medians). Each run reports what its ticks left in the store
(results: values, bounds, statuses, messages; alerts, alert events, outbox events), and the
parent says whether every run of every contender left the same, for the drift monitors and for
the others (see `bench_fleet_outcome.DETAILS_NOTE` for why the drift monitors' figures vary between runs of the
same code unless `--drift-baseline hour`).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_fleet_outcome import outcome, same_outcome
from common import (
    REPO,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Measurement,
    Run,
    Timer,
    child_main,
    git_revision,
    load_average,
    loaded_source_digest,
    markdown_table,
    measure_all,
    mib,
    ratio,
    run_once,
    source_env,
    worktrees,
    write_results,
)

SCRIPT = Path(__file__).resolve()
SEED = 20_261_206
T0 = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)  # a Monday
HOUR = dt.timedelta(hours=1)
N_NUMERIC, N_CATEGORICAL = 45, 5
SHAPE_FACTORS = (0.6, 0.9, 1.1, 1.4)
"""Row counts of the representative hours, relative to `--rows` (night to peak)."""
DRIFTED_SHARE = 0.1
INSERT_CHUNK = 2_000


def feature_names() -> list[str]:
    return [f"x{i:02d}" for i in range(N_NUMERIC)] + [f"c{i}" for i in range(N_CATEGORICAL)]


# ------------------------------------------------------------------------------------------ data


class ModelData:
    """One model's distributions: rows of any hour drawn from them (seeded by model)."""

    def __init__(self, index: int) -> None:
        import numpy as np

        self.index = index
        rng = np.random.default_rng(SEED + index)
        self.means = rng.normal(0.0, 5.0, N_NUMERIC)
        self.scales = rng.uniform(0.5, 3.0, N_NUMERIC)
        self.missing = np.where(rng.random(N_NUMERIC) < 0.2, rng.uniform(0.01, 0.1, N_NUMERIC), 0)
        self.levels = [
            [f"v{j}" for j in range(int(rng.integers(3, 20)))] for _ in range(N_CATEGORICAL)
        ]
        self.weights = [rng.dirichlet(np.ones(len(levels))) for levels in self.levels]

    def rows(self, n: int, seed: int, *, drifted: bool = False) -> dict[str, Any]:
        import numpy as np

        rng = np.random.default_rng([SEED, self.index, seed])
        data: dict[str, Any] = {}
        for j, name in enumerate(feature_names()[:N_NUMERIC]):
            shift = 2.0 * self.scales[j] if drifted and j < 10 else 0.0
            values = rng.normal(self.means[j] + shift, self.scales[j], n)
            values[rng.random(n) < self.missing[j]] = np.nan
            data[name] = values
        for j, name in enumerate(feature_names()[N_NUMERIC:]):
            data[name] = rng.choice(self.levels[j], size=n, p=self.weights[j])
        return data


def shape_of(hour: int, shapes: int) -> int:
    """Which representative hour stands for hour `hour` (by time of day)."""
    return (hour % 24) * shapes // 24


def rows_of(shape: int, rows: int, shapes: int) -> int:
    return max(1, round(rows * SHAPE_FACTORS[shape * len(SHAPE_FACTORS) // shapes]))


def build(args: Sequence[str]) -> Mapping[str, Any]:
    """Write the store: models, monitors, windows, the last day's results."""
    import sqlalchemy as sa

    import vigil
    from vigil import monitor as monitors
    from vigil.client import Client
    from vigil.monitor import Monitor
    from vigil.monitor.results import SEEN_UPLOADS
    from vigil.store.core import Store
    from vigil.store.models import MonitoredModel, ProfileWindow
    from vigil.store.monitor_tables import MonitorResultRow, MonitorRow

    options = _options(args)
    folder = Path(options.folder)
    url, artifacts = f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts")
    hours = options.days * 24 - 2  # the last two hours arrive in the tick process
    store = Store.open(url, artifacts)
    client = Client.local(url, artifacts)
    report: dict[str, Any] = {"hours": hours}
    with Timer() as made:
        for i in range(options.models):
            client.create_model(f"m{i:04d}", features=feature_names())
            for monitor in _monitors(i, options.drift_baseline):
                monitors.save_monitor(store, Monitor.model_validate(monitor), actor="bench")
    report["create_s"] = made.seconds
    with store.session() as session:
        ids = dict(session.execute(sa.select(MonitoredModel.name, MonitoredModel.id)).all())
        monitor_ids = dict(session.execute(sa.select(MonitorRow.name, MonitorRow.id)).all())
    profile_s = insert_s = 0.0
    blob_bytes = 0
    # Rows as the ORM would write them (naive UTC times in the dialect's format), inserted by the
    # driver's executemany: ten times faster than through the ORM's type processing.
    # The dialect's own processor (`dialect_impl`): the generic type has none on SQLite, and
    # sqlite3 then wrote '2026-10-05 00:00:00' where the ORM writes '... 00:00:00.000000', so a
    # range read (`start >= '...22:00:00.000000'`) missed the window at its first hour and took
    # the next one (runs before 2026-12-07 03:40 UTC measured that: see docs/benchmarks.md).
    dialect = store.engine.dialect
    as_text: Any = sa.DateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda t: t)
    times = [
        [as_text((T0 + h * HOUR + d).replace(tzinfo=None)) for d in (dt.timedelta(0), HOUR)]
        + [as_text((T0 + h * HOUR + dt.timedelta(minutes=59)).replace(tzinfo=None))] * 2
        for h in range(hours)
    ]
    insert = (
        f'INSERT INTO {ProfileWindow.__tablename__} (model_id, version, segment, start, "end", '
        "n_rows, n_uploads, first_arrival, last_arrival, profile) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    for i in range(options.models):
        model = ModelData(i)
        with Timer() as profiled:
            blobs = [
                vigil.profile(model.rows(rows_of(s, options.rows, options.shapes), s)).to_bytes()
                for s in range(options.shapes)
            ]
        profile_s += profiled.seconds
        rows = []
        for h in range(hours):
            shape = shape_of(h, options.shapes)
            start, end, first, last = times[h]
            n_rows = rows_of(shape, options.rows, options.shapes)
            model_id = ids[f"m{i:04d}"]
            rows.append((model_id, "", "", start, end, n_rows, 1, first, last, blobs[shape]))
            blob_bytes += len(blobs[shape])
        with Timer() as inserted, store.engine.begin() as connection:
            connection.exec_driver_sql(insert, rows)
        insert_s += inserted.seconds
    report.update(profile_s=profile_s, insert_s=insert_s, blob_bytes=blob_bytes)
    # Every monitor evaluated up to the last stored hour; its last day's results stored.
    until = T0 + hours * HOUR
    with Timer() as marked, store.engine.begin() as connection:
        connection.execute(sa.update(MonitorRow).values(evaluated_until=until))
        results = [
            {
                "monitor_id": monitor_id,
                "window_start": until - k * HOUR,
                "window_end": until - (k - 1) * HOUR,
                "value": 0.0,
                "lower": None,
                "upper": None,
                "breached": False,
                "message": "",
                "details": {SEEN_UPLOADS: 1},
                "evaluated_at": until - (k - 1) * HOUR + dt.timedelta(minutes=1),
            }
            for monitor_id in monitor_ids.values()
            for k in range(1, 25)
        ]
        for k in range(0, len(results), INSERT_CHUNK):
            connection.execute(sa.insert(MonitorResultRow), results[k : k + INSERT_CHUNK])
    report["results_s"] = marked.seconds
    client.close()
    store.close()
    report["db_bytes"] = (folder / "vigil.db").stat().st_size
    report["windows"] = options.models * hours
    return report


def _monitors(i: int, drift_baseline: str = "period") -> list[dict[str, Any]]:
    model = f"m{i:04d}"
    hours = 1 if drift_baseline == "hour" else 24
    baseline: dict[str, Any] = (
        {"type": "trailing", "windows": 24}
        if drift_baseline == "trailing"
        else {"type": "period", "start": T0.isoformat(), "end": (T0 + hours * HOUR)}
    )
    return [
        {
            "name": f"drift-{i:04d}",
            "kind": "data_drift",
            "target": {"model": model},
            "baseline": baseline,
            "threshold": {"type": "static", "upper": 0.2},
        },
        {
            "name": f"missing-{i:04d}",
            "kind": "missing_values",
            "target": {"model": model},
            "baseline": {"type": "trailing", "windows": 24},
            "threshold": {"type": "learned", "k": 3.0, "direction": "above"},
        },
        {"name": f"volume-{i:04d}", "kind": "volume", "target": {"model": model}},
    ]


# ----------------------------------------------------------------------------------------- ticks


def _peak_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def ticks(args: Sequence[str]) -> Mapping[str, Any]:
    """Log an hour for every model, evaluate it (cold), then twice more with warm caches (on a
    copy of the built store with `--copy`)."""
    options = _options(args)
    folder = Path(options.folder)
    if options.copy:  # a run of several on one built store: this run's own copy
        folder = Path(tempfile.mkdtemp(prefix="vigil-fleet-run-"))
        shutil.copytree(options.folder, folder, dirs_exist_ok=True)
    try:
        return _ticks(options, folder)
    finally:
        if options.copy:
            shutil.rmtree(folder, ignore_errors=True)


def _ticks(options: argparse.Namespace, folder: Path) -> Mapping[str, Any]:
    from vigil.client import Client
    from vigil.monitor import reader as reader_module
    from vigil.monitor.caches import EvaluationCache
    from vigil.monitor.evaluate import evaluate_due
    from vigil.store.core import Store
    from vigil.store.stored_profiles import decode_stored

    url, artifacts = f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts")
    hours = options.days * 24 - 2
    store = Store.open(url, artifacts)
    client = Client.local(url, artifacts)
    decoded = [0]

    def counting_decode(stored: Any, tally: Any) -> Any:
        decoded[0] += 1
        return decode_stored(stored, tally)

    vars(reader_module)["decode_stored"] = counting_decode  # windows decoded per tick
    cache = EvaluationCache()
    models = [ModelData(i) for i in range(options.models)]
    report: dict[str, Any] = {"ticks": []}
    for n, label in enumerate(("cold", "steady", "steady")):
        hour = hours + n
        with Timer() as logged:
            for model in models:
                drifted = model.index < options.models * DRIFTED_SHARE
                rows = rows_of(shape_of(hour, options.shapes), options.rows, options.shapes)
                client.log(
                    f"m{model.index:04d}",
                    model.rows(rows, 1000 + hour, drifted=drifted),
                    timestamp=T0 + hour * HOUR + dt.timedelta(minutes=30),
                )
        decoded[0] = 0
        # CPU time, not wall time: on a shared machine waiting for a core is not the tick's cost.
        profiler = (
            cProfile.Profile(time.process_time) if options.profile_steady and n == 1 else None
        )
        _peak_reset()
        load = load_average()
        with Timer() as ticked:
            if profiler is not None:
                profiler.enable()
            results = evaluate_due(
                store, now=T0 + (hour + 1) * HOUR + dt.timedelta(minutes=1), cache=cache
            )
            if profiler is not None:
                profiler.disable()
        tick = {
            "label": label,
            "hour": hour,
            "log_s": logged.seconds,
            "tick_s": ticked.seconds,
            "tick_cpu_s": ticked.cpu_seconds,
            "peak_rss_bytes": _peak_bytes(),
            "load_before": load,
            "results": len(results),
            "valued": sum(r.value is not None for r in results),
            "breached": sum(r.breached for r in results),
            "decoded": decoded[0],
            "references": len(cache.references),
            "reference_bytes": cache.references.bytes,
            "values": len(cache.values),
            "bounds": len(cache.bounds),
            **_memo_stats(cache),
            **outcome(store, results),
        }
        report["ticks"].append(tick)
        print(json.dumps({k: v for k, v in tick.items() if k != "stored"}), file=sys.stderr)
        if profiler is not None:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("cumulative").print_stats(45)
            report["profile"] = text.getvalue()
            if options.profile_out:
                stats.dump_stats(options.profile_out)
    report["source"] = loaded_source_digest()
    client.close()
    store.close()
    return report


def _memo_stats(cache: Any) -> dict[str, int]:
    """The drift statistics' memoised reference side (absent before it existed: `{}`)."""
    memo = getattr(cache, "drift", None)
    if memo is None:
        return {}
    return {"memo_columns": len(memo), "memo_bytes": memo.bytes, "memo_hits": memo.hits}


# ---------------------------------------------------------------------------------------- parent


def _options(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=100, help="rows in an average hour")
    parser.add_argument("--shapes", type=int, default=4, help="representative hours per model")
    parser.add_argument("--folder", default="", help="where the stores go (a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    parser.add_argument("--profile-steady", action="store_true", help="cProfile the warm tick")
    parser.add_argument(
        "--profile-out",
        default="",
        help="also write its pstats to this file (FILE.<contender> with --before)",
    )
    parser.add_argument(
        "--drift-baseline",
        choices=("period", "hour", "trailing"),
        default="period",
        help="the drift monitors' baseline: the first day, the first hour (an exact sketch: "
        "runs reproducible), or the 24 windows before",
    )
    parser.add_argument(
        "--before",
        action="append",
        help="git revision of the code to compare with, side by side (again for more); "
        "default: today's code only",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="tick runs per contender, round-robin"
    )
    parser.add_argument("--copy", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(list(args))
    if options.days < 29:
        parser.error(f"--days must be >= 29 (volume learns from 4 weeks), got {options.days}")
    if options.models < 1 or not 1 <= options.shapes <= 24 or options.rows < 1:
        parser.error("--models, --shapes (1 to 24) and --rows must be positive")
    if options.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {options.repeats}")
    return options


BEFORE_NAMES = ("before", "before2", "before3")
TICK_KEYS = ("tick_cpu_s", "tick_s", "peak_rss_bytes")


def _child_args(options: argparse.Namespace, folder: Path, name: str, several: bool) -> list[str]:
    args = [f"--{k}={v}" for k, v in (("models", options.models), ("days", options.days))]
    args += [f"--rows={options.rows}", f"--shapes={options.shapes}", f"--folder={folder}"]
    args += [f"--drift-baseline={options.drift_baseline}"]
    args += ["--profile-steady"] if options.profile_steady else []
    if options.profile_out:
        args += [f"--profile-out={options.profile_out}" + (f".{name}" if several else "")]
    return args


def main() -> None:
    """Build one store per contender (its own code, the same seeds), then run each contender's
    three ticks `--repeats` times, round-robin, each run on a fresh copy of its store."""
    options = _options(sys.argv[1:])
    root = Path(options.folder or tempfile.mkdtemp(prefix="vigil-fleet-"))
    root.mkdir(parents=True, exist_ok=True)
    befores = dict(zip(BEFORE_NAMES, options.before or [], strict=False))
    machine = Machine.here()
    print(f"stores in {root}", file=sys.stderr)
    try:
        with worktrees(befores) as trees:
            sources = [
                (name, f"before ({befores[name][:12]})", tree / "src")
                for name, tree in trees.items()
            ]
            sources.append(("after", f"today's code ({git_revision()})", REPO / "src"))
            several = len(sources) > 1
            builds: dict[str, Run] = {}
            contenders = []
            for name, label, src in sources:
                args = _child_args(options, root / name, name, several)
                env = source_env(src)
                builds[name] = run_once(
                    Contender("build", f"build: {label}", VIGIL_PYTHON, SCRIPT, tuple(args), env)
                )
                print(f"{label}: built in {builds[name].wall_s:.0f} s", file=sys.stderr)
                copy = ["--copy"] if options.repeats > 1 else []
                contenders.append(Contender(name, label, VIGIL_PYTHON, SCRIPT, (*args, *copy), env))
            measured = measure_all(contenders, options.repeats)
    finally:
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    _print(options, machine, builds, measured)
    names = list(measured)
    path = write_results(
        "fleet",
        {
            "machine": machine.__dict__,
            "commit": git_revision(),
            "options": vars(options),
            "before": befores,
            "builds": {
                n: {**b.report, "wall_s": b.wall_s, "peak_rss_bytes": b.max_rss_bytes}
                for n, b in builds.items()
            },
            "contenders": {
                n: {
                    "label": measured[n].label,
                    "runs": [
                        {
                            "ticks": [
                                {k: v for k, v in t.items() if k != "stored"}
                                for t in r.report["ticks"]
                            ],
                            "child_peak_rss_bytes": r.max_rss_bytes,
                        }
                        for r in measured[n].runs
                    ],
                }
                for n in names
            },
        },
    )
    print(f"\nresults: {path}", file=sys.stderr)


def _tick_median(measurement: Measurement, tick: int, key: str) -> float:
    return statistics.median(float(r.report["ticks"][tick][key]) for r in measurement.runs)


def _print(
    options: argparse.Namespace,
    machine: Machine,
    builds: Mapping[str, Run],
    measured: Mapping[str, Measurement],
) -> None:
    names, monitors = list(measured), 3 * options.models
    b = builds[names[-1]].report
    print(f"\n{machine.markdown()}; commit {git_revision()}\n")
    print(
        f"{options.models:,} models x {len(feature_names())} features, {monitors:,} monitors; "
        f"{b['windows']:,} stored windows ({options.days} days), database "
        f"{b['db_bytes'] / 2**30:.2f} GiB ({b['blob_bytes'] / b['windows'] / 1024:.1f} KiB of "
        f"profile per window, {b['blob_bytes'] / b['windows'] / len(feature_names()):.0f} B per "
        f"window and feature); built in {builds[names[-1]].wall_s:.0f} s (profiling "
        f"{b['profile_s']:.0f} s, inserts {b['insert_s']:.0f} s, models and monitors "
        f"{b['create_s']:.0f} s); median of {options.repeats} run(s) per contender\n"
    )
    header = [
        "contender",
        "tick",
        "wall s",
        "CPU s",
        "ms per monitor",
        "CPU ms per monitor",
        "peak RSS MiB",
        "windows decoded",
        "results with a value",
        "load before (each run)",
    ]
    rows = []
    for name in names:
        m = measured[name]
        for i, t in enumerate(m.runs[-1].report["ticks"]):
            wall, cpu = _tick_median(m, i, "tick_s"), _tick_median(m, i, "tick_cpu_s")
            loads = ", ".join(f"{r.report['ticks'][i]['load_before']:.1f}" for r in m.runs)
            rows.append(
                [
                    m.label,
                    t["label"],
                    wall,
                    cpu,
                    1000 * wall / monitors,
                    1000 * cpu / monitors,
                    mib(_tick_median(m, i, "peak_rss_bytes")),
                    t["decoded"],
                    f"{t['valued']:,} / {t['results']:,} ({t['breached']:,} breached)",
                    loads,
                ]
            )
    print(markdown_table(header, rows))
    if len(names) > 1:
        after = measured[names[-1]]
        ratio_rows = [
            [
                f"{t['label']} (tick {i + 1})",
                *(
                    ratio(_tick_median(after, i, key), _tick_median(measured[n], i, key))
                    for n in names[:-1]
                    for key in TICK_KEYS
                ),
            ]
            for i, t in enumerate(after.runs[-1].report["ticks"])
        ]
        ratio_header = [
            "tick",
            *(
                f"{what} after / {measured[n].label}"
                for n in names[:-1]
                for what in ("CPU", "wall", "peak RSS")
            ),
        ]
        print("\n" + markdown_table(ratio_header, ratio_rows))
    print("\n" + "\n".join(same_outcome(measured)))
    if "profile" in measured[names[-1]].runs[-1].report:
        profile = measured[names[-1]].runs[-1].report["profile"]
        print("\ncProfile of today's first steady tick:\n" + profile, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main({"build": build, **{name: ticks for name in (*BEFORE_NAMES, "after", "ticks")}})
    else:
        main()
