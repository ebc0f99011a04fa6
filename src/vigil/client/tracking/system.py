"""System metrics sampled in the background while a run is active: CPU and memory (psutil), and
GPU utilisation and memory when NVIDIA's management library (`pynvml`) finds a device."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import psutil

Sink = Callable[[dict[str, float]], None]


def _nvml() -> Any | None:
    """The initialised `pynvml` module when a GPU is present, else None (GPUs are optional)."""
    try:
        nvml: Any = importlib.import_module("pynvml")
        nvml.nvmlInit()
        if nvml.nvmlDeviceGetCount() == 0:
            return None
    except Exception:  # no library, no driver, no device: no GPU metrics
        return None
    return nvml


def sample(process: psutil.Process, nvml: Any | None = None) -> dict[str, float]:
    """One reading: system CPU and memory, this process's resident memory, and each GPU."""
    memory = psutil.virtual_memory()
    values = {
        "system.cpu_percent": float(psutil.cpu_percent(interval=None)),
        "system.memory_percent": float(memory.percent),
        "system.memory_used_mb": memory.used / 2**20,
        "system.process_rss_mb": process.memory_info().rss / 2**20,
    }
    if nvml is not None:
        try:
            for i in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(i)
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                info = nvml.nvmlDeviceGetMemoryInfo(handle)
                values[f"system.gpu{i}.utilization_percent"] = float(rates.gpu)
                values[f"system.gpu{i}.memory_used_mb"] = info.used / 2**20
        except Exception:  # a GPU that stops answering does not stop the run
            pass
    return values


class SystemSampler:
    """A daemon thread calling `sink(sample())` every `interval` seconds until `stop()`."""

    def __init__(self, sink: Sink, interval: float = 5.0) -> None:
        self.sink = sink
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        process = psutil.Process()
        psutil.cpu_percent(interval=None)  # the first call only sets the reference point
        nvml = _nvml()

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sink(sample(process, nvml))

        self._thread = threading.Thread(target=loop, name="vigil-system-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1)
            self._thread = None
