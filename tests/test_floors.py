"""The floors of the architecture (.importlinter) hold, and an import from a higher floor breaks them.

`make test` runs `lint-imports` on the tree itself; these tests show that the contract is not
vacuous: the same check on a copy of the package with one upward import added fails and names it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), str(ROOT / ".importlinter"), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "vigil",
        src / "vigil",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "migrations"),
    )
    return src


@pytest.mark.parametrize(
    ("module", "line"),
    [
        # a pure computation reaching for the store, inside a function (hidden from import time)
        ("analysis/drift/effect.py", "def _upward() -> None:\n    import vigil.store.core\n"),
        # the profile floor importing the client under TYPE_CHECKING
        (
            "profile/__init__.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import vigil.client\n",
        ),
        # a service importing a face
        ("monitor/thresholds.py", "from vigil.server import app as _app\n"),
    ],
)
def test_an_import_from_a_higher_floor_breaks_the_contract(
    package_copy: Path, tmp_path: Path, module: str, line: str
) -> None:
    target = package_copy / "vigil" / module
    target.write_text(target.read_text() + "\n\n" + line)
    result = lint(package_copy, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    lower = module.split("/")[0]
    assert f"vigil.{lower} is not allowed to import" in result.stdout, result.stdout


def test_the_copy_itself_keeps_the_contract(package_copy: Path, tmp_path: Path) -> None:
    result = lint(package_copy, tmp_path)
    assert result.returncode == 0, result.stdout
