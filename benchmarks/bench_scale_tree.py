"""Running one bench_scale.py contender in a child process and measuring the whole process tree
from outside: wall time, the CPU of the child and its descendants (the Spark JVM, Python workers,
forked profilers), and the peak of their summed RSS sampled every SAMPLE_EVERY_S, beside the
kernel's `wait4` peak of the largest single process.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import CHILD_ENV, ChildFailedError, Contender, load_average

SAMPLE_EVERY_S = 0.2


@dataclass(frozen=True)
class TreeRun:
    """One child process and its descendants: wall time, sampled peak RSS and CPU of the tree."""

    wall_s: float
    wait4_cpu_s: float
    wait4_max_rss_bytes: int
    tree_peak_rss_bytes: int
    tree_cpu_s: float
    tree_peak_processes: int
    load_before: float
    load_after: float
    nice: int
    report: Mapping[str, Any]


class TreeSampler(threading.Thread):
    """Every SAMPLE_EVERY_S, the summed RSS of a process and all its descendants, and the CPU
    time each of them has used so far (the last value seen per process is kept)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self._root = psutil.Process(pid)
        self._done = threading.Event()
        self.peak_rss = 0
        self.peak_processes = 0
        self.cpu: dict[tuple[int, float], float] = {}

    def run(self) -> None:
        import psutil

        while not self._done.is_set():
            try:
                procs = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        total += proc.memory_info().rss
                        times = proc.cpu_times()
                        self.cpu[(proc.pid, proc.create_time())] = times.user + times.system
                except psutil.Error:
                    continue
            if total > self.peak_rss:
                self.peak_rss = total
                self.peak_processes = len(procs)
            self._done.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_tree(contender: Contender) -> TreeRun:
    if not contender.python.exists():
        raise ChildFailedError(
            f"{contender.label}: interpreter {contender.python} is missing; "
            "run `bash benchmarks/setup_peers.sh` (peers) or `make demo` (Vigil) first"
        )
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        out = Path(tmp) / "report.json"
        log_path = Path(tmp) / "output.log"
        env = {**os.environ, **CHILD_ENV, **dict(contender.env)}
        with log_path.open("w") as log:
            started = time.perf_counter()
            proc = subprocess.Popen(
                contender.command(out), env=env, stdout=log, stderr=subprocess.STDOUT
            )
            sampler = TreeSampler(proc.pid)
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            sampler.stop()
        code = os.waitstatus_to_exitcode(status)
        if code != 0 or not out.exists():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
            raise ChildFailedError(f"{contender.label} failed (exit {code}):\n{tail}")
        report = json.loads(out.read_text())
    return TreeRun(
        wall_s=wall,
        wait4_cpu_s=usage.ru_utime + usage.ru_stime,
        wait4_max_rss_bytes=int(usage.ru_maxrss) * 1024,
        tree_peak_rss_bytes=sampler.peak_rss,
        tree_cpu_s=max(sum(sampler.cpu.values()), usage.ru_utime + usage.ru_stime),
        tree_peak_processes=sampler.peak_processes,
        load_before=load_before,
        load_after=load_average(),
        nice=os.nice(0),
        report=report,
    )
