"""Running one bench_scale.py contender in a child process and measuring the whole process tree
from outside: wall time, the CPU of the child and its descendants (the Spark JVM, Python workers,
forked profilers), and the peak of their summed RSS sampled every SAMPLE_EVERY_S, beside the
kernel's `wait4` peak of the largest single process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from common import Contender, load_average, run_child

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
    """Run a contender once in a fresh process, sampling its process tree while it runs."""
    samplers: list[TreeSampler] = []

    def watch(pid: int) -> Callable[[], None]:
        sampler = TreeSampler(pid)
        sampler.start()
        samplers.append(sampler)
        return sampler.stop

    child = run_child(contender, watch=watch, tail_lines=40)
    sampler = samplers[0]
    return TreeRun(
        wall_s=child.wall_s,
        wait4_cpu_s=child.cpu_s,
        wait4_max_rss_bytes=child.max_rss_bytes,
        tree_peak_rss_bytes=sampler.peak_rss,
        tree_cpu_s=max(sum(sampler.cpu.values()), child.cpu_s),
        tree_peak_processes=sampler.peak_processes,
        load_before=child.load_before,
        load_after=load_average(),
        nice=os.nice(0),
        report=child.report,
    )
