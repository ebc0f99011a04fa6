"""What a test needs before it starts Spark: pyspark and a Java runtime. Missing, the test is
skipped on a developer's machine and fails in CI (`CI=true`), where nothing may be skipped."""

from __future__ import annotations

import os
import shutil
import sys

import pytest


def require_spark(what: str) -> None:
    """Skip (or, in CI, fail) `what` when Spark cannot start here; else point Spark's workers
    at this interpreter."""
    reason = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reason = "pyspark is not installed (pip install 'vigil[spark]')"
    if reason is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no Java runtime for Spark (make test installs one where it can)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} cannot run in CI: {reason}")
        pytest.skip(reason)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
