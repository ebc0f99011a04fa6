"""Run every `benchmarks/bench_*.py`, one after another, and print their markdown reports.

    make bench                                                  # all but `scale`, defaults
    .venv/bin/python benchmarks/run_all.py scale --rows 5000000  # the 100M-row one, by name only
    .venv/bin/python benchmarks/run_all.py profile --repeats 5   # only bench_profile.py

Options after the names are passed to each named script (scripts take different options, so name
the benchmark when passing any). Peers run in `benchmarks/.venv-peers`, created by
`benchmarks/setup_peers.sh` when missing.
"""

from __future__ import annotations

import subprocess
import sys

from common import HERE, PEERS_PYTHON, VIGIL_PYTHON

BY_NAME_ONLY = {"scale", "fleet"}
"""Run only when named: at full size `bench_scale.py` writes 16 GiB of data and takes hours, and
`bench_fleet.py` writes about 14 GB (a thousand models' month of hourly windows)."""


def main(argv: list[str]) -> int:
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, passed = argv[:split], argv[split:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if not names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") not in BY_NAME_ONLY]
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
        missing = set(names) - {s.stem.removeprefix("bench_") for s in scripts}
        if missing:
            known = [s.stem.removeprefix("bench_") for s in sorted(HERE.glob("bench_*.py"))]
            raise SystemExit(f"no benchmark named {sorted(missing)}; known: {known}")
    if not PEERS_PYTHON.exists():
        subprocess.run(["bash", str(HERE / "setup_peers.sh")], check=True)
    failed: list[str] = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        code = subprocess.run([str(VIGIL_PYTHON), str(script), *passed]).returncode
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
