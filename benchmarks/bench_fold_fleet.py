"""Issue 19: the compactors' CPU when several server processes fold one store's windows, today's
code side by side with earlier revisions (`--before REV`, each checked out with `git worktree`).

    .venv/bin/python benchmarks/bench_fold_fleet.py --before ee4d8fe [--before REV] [--repeats 2]

Per contender and repeat, on a fresh SQLite file (or `--store`, a PostgreSQL URL whose tables are
emptied first): `--compactors` processes each run compaction rounds as a server's `Compactor`
thread does (again at once after a round that folded, else after a second), while one
writer process appends `--uploads` window profiles (`--columns` columns of 200 rows) into one
window at `--rate` uploads a second, in-process (`service.ingest_log`; its own fold every
FOLD_EVERY-th upload is turned off). Afterwards the compactors run until no part is left.
Reported: the compactors' CPU after their start-up (user + system, all of them) per upload, the
folds, and the folds discarded as raced. This is the part of a fleet's CPU per upload that the fold lease and the
one-pass merge act on; bench_ingest.py measures the whole server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def _compact(store_url: str, stop: Path, out: Path) -> None:
    from vigil.ingestion.compactor import compact_round
    from vigil.store.core import Store

    store = Store.open(store_url, str(stop.parent / "artifacts"), migrate=False)
    start = resource.getrusage(resource.RUSAGE_SELF)  # after start-up: imports, the store
    folds = parts = raced = 0
    idle_after_stop = 0
    while idle_after_stop < 3:
        done = compact_round(store, min_parts=64, settle_seconds=10.0)
        folds, parts, raced = folds + done.windows, parts + done.parts, raced + done.raced
        if stop.exists():
            # The writer is done: fold what is left, whatever its age.
            done = compact_round(store, min_parts=1, settle_seconds=0.0)
            folds, parts, raced = folds + done.windows, parts + done.parts, raced + done.raced
            idle_after_stop = idle_after_stop + 1 if not done.parts else 0
            time.sleep(0.001 if done.parts else 0.05)
            continue
        # As a server's Compactor thread: at once while rounds fold, else after its interval.
        time.sleep(0.001 if done.parts else 1.0)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - start.ru_utime - start.ru_stime
    out.write_text(json.dumps({"cpu": cpu, "folds": folds, "parts": parts, "raced": raced}))


def _profile_blob(seed: int, columns: int) -> bytes:
    import numpy as np

    import vigil

    rng = np.random.default_rng(seed)
    data = {f"f{i}": rng.normal(i, 1, 200) for i in range(columns)}
    profile = vigil.profile(data, window=(T0, T0 + dt.timedelta(hours=1)))
    return profile.to_bytes()


def _run(args: argparse.Namespace) -> dict[str, float]:
    """One contender's run, in a child whose `vigil` is the contender's."""
    from sqlalchemy import text

    from vigil.api.specs import ModelSpec
    from vigil.api.wire import LogBatch
    from vigil.ingestion import service
    from vigil.store.base import Base
    from vigil.store.core import Store

    work = Path(tempfile.mkdtemp(prefix="vigil-fold-"))
    store_url = args.store or f"sqlite:///{work / 'vigil.db'}"
    store = Store.open(store_url, str(work / "artifacts"))
    if store.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with store.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    service.FOLD_EVERY = 10**9  # only the compactors fold
    with store.session() as session:
        service.create_model(
            session, ModelSpec(name="m", features=[f"f{i}" for i in range(args.columns)])
        )
    blobs = [_profile_blob(seed, args.columns) for seed in range(args.uploads)]
    stop = work / "stop"
    compactors = [
        subprocess.Popen(
            [sys.executable, __file__, "--compact", store_url, str(stop), str(work / f"c{i}.json")]
        )
        for i in range(args.compactors)
    ]
    started = time.perf_counter()
    for i, blob in enumerate(blobs):
        with store.session() as session:
            service.ingest_log(session, store.predictions, "m", LogBatch(profiles=[blob]))
        pause = started + (i + 1) / args.rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    stop.touch()
    for process in compactors:
        process.wait(timeout=600)
    results = [json.loads((work / f"c{i}.json").read_text()) for i in range(args.compactors)]
    with store.session() as session:
        [window] = service.list_windows(session, "m")
    assert window.n_uploads == args.uploads, window
    store.close()
    total = {key: sum(r[key] for r in results) for key in ("cpu", "folds", "parts", "raced")}
    assert total["parts"] == args.uploads - 1, total  # the first upload is the window's profile
    return {
        "cpu_ms_per_upload": total["cpu"] * 1000 / args.uploads,
        "folds": total["folds"],
        "raced": total["raced"],
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", action="append", default=[], help="revision (repeatable)")
    parser.add_argument("--store", help="PostgreSQL URL (default: a new SQLite file per run)")
    parser.add_argument("--compactors", type=int, default=2)
    parser.add_argument("--uploads", type=int, default=641)
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    if sys.argv[1:2] == ["--compact"]:
        _compact(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    args = _parser().parse_args()
    if args.child:
        print(json.dumps(_run(args)))
        return
    trees = Path(tempfile.mkdtemp(prefix="vigil-fold-trees-"))
    contenders: list[tuple[str, Path]] = []
    for i, revision in enumerate(args.before):
        tree = trees / f"before{i}"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), revision],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        contenders.append((f"before ({revision[:12]})", tree / "src"))
    contenders.append(("today's code", REPO / "src"))
    passed = [a for a in sys.argv[1:] if a]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in contenders}
    loads = []
    try:
        for repeat in range(args.repeats):
            for name, src in contenders:
                loads.append(os.getloadavg()[0])
                env = {**os.environ, "PYTHONPATH": f"{src}:{HERE}"}
                line = (
                    subprocess.run(
                        [sys.executable, __file__, *_without_before(passed), "--child"],
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                runs[name].append(json.loads(line))
                print(f"  round {repeat + 1}/{args.repeats}  {name:<28} {line}", flush=True)
    finally:
        for i in range(len(args.before)):
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(trees / f"before{i}")],
                cwd=REPO,
                check=False,
                capture_output=True,
            )
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"\n{args.compactors} compactor processes, {args.uploads} uploads of {args.columns} "
        f"columns x 200 rows into one window at {args.rate:g}/s, "
        f"{'PostgreSQL' if args.store else 'SQLite'}; commit {revision}; "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load {min(loads):.1f}-{max(loads):.1f}; "
        f"median of {args.repeats}\n"
    )
    names = [name for name, _ in contenders]
    ratio_names = [f"after / {name}" for name in names[:-1]]
    print("| measure | " + " | ".join(names + ratio_names) + " |")
    print("|---|" + "---:|" * (2 * len(names) - 1))
    for key, label in (
        ("cpu_ms_per_upload", "compactors' CPU per upload (ms)"),
        ("folds", "folds"),
        ("raced", "folds discarded as raced"),
    ):
        values = [statistics.median(r[key] for r in runs[name]) for name in names]
        ratios = [f"{values[-1] / v:.2f}" if v else "-" for v in values[:-1]]
        cells = [f"{v:.2f}" if key == "cpu_ms_per_upload" else f"{v:g}" for v in values]
        print(f"| {label} | " + " | ".join(cells + ratios) + " |")


def _without_before(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--before":
            skip = True
            continue
        if arg.startswith("--before="):
            continue
        kept.append(arg)
    return kept


if __name__ == "__main__":
    main()
