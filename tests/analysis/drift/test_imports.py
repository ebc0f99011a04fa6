"""scipy.stats (about a second to import) is loaded by the drift calls that need it (p-values,
Wasserstein, ...), not by the server's start or by a distance that needs no test."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _loaded_after(code: str) -> list[str]:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        {textwrap.indent(textwrap.dedent(code), "        ").strip()}
        print(sorted(m for m in sys.modules if m.startswith("scipy.stats"))[:3])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    return list(eval(done.stdout.strip().splitlines()[-1]))


def test_the_server_app_and_a_psi_drift_report_load_no_scipy_stats() -> None:
    loaded = _loaded_after(
        """
        import numpy as np
        import vigil
        import vigil.server.app
        rng = np.random.default_rng(0)
        ref = {"x": rng.normal(size=500), "c": rng.choice(list("abc"), 500)}
        cur = {"x": rng.normal(0.5, size=500), "c": rng.choice(list("abd"), 500)}
        report = vigil.drift(
            vigil.profile(ref), vigil.profile(cur), method="psi",
            per_column={"c": "jensen_shannon"},
        )
        assert report.columns, report
        """
    )
    assert loaded == []


def test_a_drift_report_that_needs_p_values_loads_scipy_stats() -> None:
    loaded = _loaded_after(
        """
        import vigil
        vigil.drift({"x": [1.0, 2.0, 3.0] * 20}, {"x": [2.0, 3.0, 4.0] * 20}, method="ks")
        """
    )
    assert loaded, "KS's p-value comes from scipy.stats"
