"""Benchmark harness: deterministic data, one fresh subprocess per run, wall time and peak memory.

A benchmark script (`bench_*.py`) defines its contenders and a child entry point. The parent
runs every contender `repeats` times, each run in a new Python process (so its peak RSS is its
own), reads the child's own timings from a JSON file, keeps the median, writes the results to
`benchmarks/results/` and prints a markdown table.

Only the standard library is imported at module level: the same file is imported by children
running in the peers' virtualenv (`benchmarks/.venv-peers`), which does not have Vigil.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

# Re-exported: the benchmarks import these from here.
from report_tables import RESULTS_DIR as RESULTS_DIR
from report_tables import estimate_errors as estimate_errors
from report_tables import format_number as format_number
from report_tables import markdown_table as markdown_table
from report_tables import mib as mib
from report_tables import ratio as ratio
from report_tables import write_results as write_results

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
REPO = HERE.parent
VIGIL_PYTHON = REPO / ".venv" / "bin" / "python"
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"

T = TypeVar("T")

CHILD_ENV = {
    # Peers must not phone home or print banners during a timed run.
    "WHYLOGS_NO_ANALYTICS": "True",
    "DO_NOT_TRACK": "1",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "NML_DISABLE_USAGE_LOGGING": "1",  # NannyML posts usage events and retries them offline
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
}


# ------------------------------------------------------------------------------------- machine


@dataclass(frozen=True)
class Machine:
    """Where a benchmark ran: the numbers mean nothing without it."""

    date: str
    nproc: int
    cpu_model: str
    memory_gb: float
    os: str
    python: str

    @classmethod
    def here(cls) -> Machine:
        return cls(
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            nproc=os.cpu_count() or 0,
            cpu_model=_cpu_model(),
            memory_gb=round(_memory_bytes() / 2**30, 1),
            os=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
        )

    def markdown(self) -> str:
        return (
            f"{self.date}; {self.nproc} CPUs ({self.cpu_model}); {self.memory_gb} GiB RAM; "
            f"{self.os}; Python {self.python}"
        )


def load_average() -> float:
    """One-minute load average: how busy the machine was (other work skews wall times)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of `packages` in the running interpreter (for a child's report)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_revision() -> str:
    """The commit benchmarked, with `+dirty` when `src/` has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def loaded_source_digest(package: str = "vigil") -> str:
    """A hash of the source of every `package` module this process has imported.

    Children import the code afresh on every run, so someone editing the code during a benchmark
    would mix two versions; each child reports this and the parent checks they all agree.
    """
    import hashlib

    digest = hashlib.sha256()
    files = sorted(
        str(module.__file__)
        for name, module in list(sys.modules.items())
        if (name == package or name.startswith(package + ".")) and getattr(module, "__file__", None)
    )
    for file in files:
        digest.update(file.encode())
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------------------------------- data


def dataset_path(name: str, build: Callable[[Path], None]) -> Path:
    """The path of data file `name` in `benchmarks/data/`, built by `build(path)` if missing.

    `name` should encode everything the data depends on (rows, seed, version), so a change to
    the generator makes a new file instead of silently reusing an old one.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / name
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        started = time.perf_counter()
        build(partial)
        partial.rename(path)
        print(f"built {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


# --------------------------------------------------------------------------------- contenders


@dataclass(frozen=True)
class Contender:
    """One thing to measure: `python script child <name> <args...>` in a fresh process."""

    name: str
    label: str
    python: Path
    script: Path
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """Extra environment variables for this contender only, e.g. a thread count."""

    def command(self, out: Path) -> list[str]:
        return [
            str(self.python),
            str(self.script),
            "child",
            self.name,
            "--out",
            str(out),
            *self.args,
        ]


@dataclass(frozen=True)
class Run:
    """One child process: its wall time seen from outside, its peak RSS, and what it reported."""

    wall_s: float
    cpu_s: float
    max_rss_bytes: int
    load_before: float
    report: Mapping[str, Any]


@dataclass(frozen=True)
class Measurement:
    """`repeats` runs of one contender, summarised by their medians (and the worst peak RSS)."""

    name: str
    label: str
    runs: tuple[Run, ...]
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def max_rss_bytes(self) -> int:
        """The highest peak RSS of all runs."""
        return max(r.max_rss_bytes for r in self.runs)

    @property
    def median_rss_bytes(self) -> float:
        """The median over runs of each run's peak RSS: the typical peak."""
        return statistics.median(r.max_rss_bytes for r in self.runs)

    def metric(self, key: str) -> float:
        """Median over runs of a number the child reported (e.g. `work_s`)."""
        return statistics.median(float(r.report[key]) for r in self.runs)

    def last(self, key: str) -> Any:
        """A value the child reported that does not vary between runs (sizes, estimates)."""
        return self.runs[-1].report[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "median_wall_s": self.wall_s,
            "median_cpu_s": self.cpu_s,
            "max_rss_bytes": self.max_rss_bytes,
            "median_rss_bytes": self.median_rss_bytes,
            "runs": [asdict(r) for r in self.runs],
        }


class ChildFailedError(RuntimeError):
    pass


def run_child(
    contender: Contender,
    watch: Callable[[int], Callable[[], object]] | None = None,
    tail_lines: int = 30,
) -> Run:
    """Start a contender in a fresh process, wait for it and read its report: its wall time
    seen from outside, its `wait4` resource usage (the child's own, not its descendants').

    `watch(pid)`, when given, is called as soon as the child has started and returns the function
    that stops watching it, called when the child has exited (e.g. a sampler of its process tree).
    A failed child raises ChildFailedError with the last `tail_lines` lines of its output.
    """
    if not contender.python.exists():
        raise ChildFailedError(
            f"{contender.label}: interpreter {contender.python} is missing; "
            "run `bash benchmarks/setup_peers.sh` (peers) or `make demo` (Vigil) first"
        )
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        out = Path(tmp) / "report.json"
        full_env = {**os.environ, **CHILD_ENV, **dict(contender.env)}
        log_path = Path(tmp) / "output.log"
        with log_path.open("w") as log:
            started = time.perf_counter()
            proc = subprocess.Popen(
                contender.command(out), env=full_env, stdout=log, stderr=subprocess.STDOUT
            )
            stop = watch(proc.pid) if watch else None
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            if stop:
                stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or not out.exists():
            lines = log_path.read_text(errors="replace").splitlines()[-tail_lines:]
            tail = "\n".join(lines)
            raise ChildFailedError(f"{contender.label} failed (exit {proc.returncode}):\n{tail}")
        report = json.loads(out.read_text())
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_bytes=int(usage.ru_maxrss) * 1024,  # Linux reports KiB
        load_before=load_before,
        report=report,
    )


def run_once(contender: Contender) -> Run:
    """Run a contender once in a fresh process; its own peak RSS comes from `wait4`."""
    return run_child(contender)


def source_env(src: Path) -> tuple[tuple[str, str], ...]:
    """A `Contender.env` whose child imports Vigil from `src` (first on PYTHONPATH) and these
    benchmarks' helpers (`common`) from here: today's tree or a `worktrees` checkout."""
    return (("PYTHONPATH", f"{src}:{HERE}"),)


@contextmanager
def worktrees(revisions: Mapping[str, str]) -> Iterator[dict[str, Path]]:
    """Each git revision of `revisions` (by a contender's name) checked out with
    `git worktree add --detach` into a temporary folder: `{name: tree}`, removed afterwards.
    Its code runs in a child with `source_env(tree / "src")`."""
    root = Path(tempfile.mkdtemp(prefix="vigil-bench-trees-"))
    trees: dict[str, Path] = {}
    try:
        for name, revision in revisions.items():
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(root / name), revision],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            trees[name] = root / name
        yield trees
    finally:
        for tree in trees.values():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=REPO,
                check=False,
                capture_output=True,
            )


def measure_all(contenders: Sequence[Contender], repeats: int) -> dict[str, Measurement]:
    """Run every contender `repeats` times, round-robin, so a slow spell of the machine hits
    all of them alike rather than whichever happened to run then."""
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    for i in range(repeats):
        for contender in contenders:
            run = run_once(contender)
            runs[contender.name].append(run)
            print(
                f"  round {i + 1}/{repeats}  {contender.label:<36s} {run.wall_s:7.2f} s wall, "
                f"{run.cpu_s:7.2f} s CPU, {run.max_rss_bytes / 2**20:7.0f} MiB peak, "
                f"load {run.load_before:.1f}",
                file=sys.stderr,
            )
    return {c.name: Measurement(c.name, c.label, tuple(runs[c.name])) for c in contenders}


def warm_file_cache(path: Path) -> None:
    """Read a file once so every contender finds it in the page cache, not just the later ones."""
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass


# ------------------------------------------------------------------------------------- children


def child_main(handlers: Mapping[str, Callable[[Sequence[str]], Mapping[str, Any]]]) -> None:
    """Entry point of a child: `script child <name> --out <file> [args...]`.

    The handler does the work, times its own phases and returns a JSON-able report.
    """
    argv = sys.argv[2:]
    if len(argv) < 3 or argv[1] != "--out":
        raise SystemExit("usage: script child <name> --out <file> [args...]")
    name, out, rest = argv[0], Path(argv[2]), argv[3:]
    if name not in handlers:
        raise SystemExit(f"unknown contender {name!r}; known: {sorted(handlers)}")
    report = dict(handlers[name](rest))
    out.write_text(json.dumps(report))


class Timer:
    """`with Timer() as t: ...` then `t.seconds` (wall) and `t.cpu_seconds` (all threads).

    CPU time is reported next to wall time because a shared machine's load moves wall time a lot
    and CPU time much less.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self._start = 0.0
        self._cpu_start = 0.0

    def __enter__(self) -> Timer:
        self._cpu_start = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = time.process_time() - self._cpu_start


def timed_calls(call: Callable[[], T], times: int) -> tuple[T, list[float]]:
    """Call `call` `times` times (at least once); its last result and each call's wall seconds."""
    seconds: list[float] = []
    for _ in range(max(times, 1)):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return result, seconds


def phase_times(read: Timer | None, work: Timer) -> dict[str, float]:
    """A child's phase timings as its report carries them (no read phase: zeros)."""
    return {
        "read_s": read.seconds if read else 0.0,
        "read_cpu_s": read.cpu_seconds if read else 0.0,
        "work_s": work.seconds,
        "work_cpu_s": work.cpu_seconds,
    }


# -------------------------------------------------------------------------------------- results


def timing_table(measurements: Sequence[Measurement], work: str) -> str:
    """Each contender's median work time (wall and CPU), process wall time and peak memory."""
    rows = [
        [
            m.label,
            f"{m.metric('work_s'):.3f}",
            f"{m.metric('work_cpu_s'):.3f}",
            f"{m.wall_s:.2f}",
            f"{m.max_rss_bytes / 2**20:.0f}",
        ]
        for m in measurements
    ]
    header = ["contender", f"{work} s", f"{work} CPU s", "process wall s", "peak MiB"]
    return markdown_table(header, rows)
