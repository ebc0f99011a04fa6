"""A short coverage-guided fuzzing run of the profile decoder and merge (fuzz_profile.py).

The harness runs in child processes supervised from here: a crash (an uncaught exception other
than a VigilError, or a signal from native code) ends a child with a `crash-*` file; the
supervisor records it and starts the next child until the time is spent. The run starts from a
seed corpus of valid profiles of every column kind and must end with zero crashes.

VIGIL_FUZZ_SECONDS sets the length (30 by default; 0 skips, except under CI=true, where the run
always happens and lasts at least 30 s). The floor was 60 s; it is 30 s so that the whole suite fits
its 15-minute budget on a 2-core machine. What this run is for is catching a regression in the
decoder on every `make test` (test_regressions.py replays every crashing input found so far);
the search for new crashes is the long run behind
docs/security.md (over a million executions), which uses the same harness:
`python tests/profile/fuzz_profile.py -runs=1000000 CORPUS`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HARNESS = Path(__file__).with_name("fuzz_profile.py")
DEFAULT_SECONDS = 30.0
SLACK_SECONDS = 600.0
"""Start-up and shutdown of a child on a loaded machine; only a hung child comes near it."""


def fuzz_seconds() -> float:
    seconds = float(os.environ.get("VIGIL_FUZZ_SECONDS", DEFAULT_SECONDS))
    if os.environ.get("CI", "").lower() == "true":
        return max(seconds, DEFAULT_SECONDS)
    return seconds


@dataclass
class FuzzRun:
    executions: int = 0
    children: int = 0
    crashes: list[Path] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


def _executions(log: str) -> int:
    """Inputs a child ran: its final statistic, else its last status line (`#N ...`)."""
    final = re.findall(r"stat::number_of_executed_units: (\d+)", log)
    if final:
        return int(final[-1])
    counts = re.findall(r"^#(\d+)\s", log, flags=re.MULTILINE)
    return int(counts[-1]) if counts else 0


def run_fuzzer(workdir: Path, seconds: float) -> FuzzRun:
    """Fuzz for `seconds` in supervised children; every crash is kept under workdir/crashes."""
    corpus, crashes = workdir / "corpus", workdir / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    subprocess.run([python, str(HARNESS), "--write-seeds", str(corpus)], check=True)
    run = FuzzRun()
    deadline = time.monotonic() + seconds
    while (remaining := int(deadline - time.monotonic())) > 0:
        child = subprocess.run(
            [
                python,
                str(HARNESS),
                f"-max_total_time={remaining}",
                f"-artifact_prefix={crashes}/",
                "-print_final_stats=1",
                str(corpus),
            ],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=remaining + SLACK_SECONDS,
            check=False,
        )
        run.children += 1
        run.executions += _executions(child.stderr)
        run.logs.append(child.stderr[-3000:])
        if child.returncode == 0:
            break
    run.crashes = sorted(crashes.glob("crash-*")) + sorted(crashes.glob("timeout-*"))
    return run


@pytest.mark.slow
def test_fuzzing_the_profile_decoder_finds_no_crash(tmp_path: Path) -> None:
    seconds = fuzz_seconds()
    if seconds <= 0:
        pytest.skip("VIGIL_FUZZ_SECONDS=0 (the run always happens under CI=true)")
    run = run_fuzzer(tmp_path, seconds)
    assert run.executions > 0, run.logs[-1]
    assert run.crashes == [], f"{len(run.crashes)} crash(es), last log:\n{run.logs[-1]}"


def test_the_supervisor_counts_executions_and_keeps_a_crash(tmp_path: Path) -> None:
    """The supervisor is what proves 'zero crashes': it must see a crash when there is one."""
    crashing = tmp_path / "crashing.py"
    crashing.write_text(
        "import sys, atheris\n"
        "def one(data):\n"
        "    if len(data) > 3: raise RuntimeError('boom')\n"
        "atheris.Setup(sys.argv, one)\n"
        "atheris.Fuzz()\n"
    )
    log = subprocess.run(
        [sys.executable, str(crashing), f"-artifact_prefix={tmp_path}/", "-runs=100000"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert log.returncode != 0
    assert list(tmp_path.glob("crash-*"))
    assert _executions("#128\tpulse  cov: 1\n#300\tDONE   cov: 2\n") == 300
    assert _executions("stat::number_of_executed_units: 4242\n#1\tINITED\n") == 4242
