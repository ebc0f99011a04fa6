"""The suite's workers run native thread pools on one thread (tests/conftest.py says why): the
setting must reach the pools, so it has to be made before anything loads them."""

from __future__ import annotations

import os
import subprocess
import sys


def test_native_pools_run_one_thread_in_the_workers() -> None:
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_info

    pools = {(i["user_api"], i["internal_api"]): i["num_threads"] for i in threadpool_info()}
    assert ("openmp", "openmp") in pools
    assert set(pools.values()) == {1}, pools


def test_servers_and_commands_the_tests_start_inherit_it() -> None:
    script = (
        "import numpy, sklearn.ensemble\n"
        "from threadpoolctl import threadpool_info\n"
        "print(sorted({i['num_threads'] for i in threadpool_info()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "[1]"
