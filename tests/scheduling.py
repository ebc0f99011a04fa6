"""How `pytest -n N` shares the suite among its workers: tests that share a costly set-up run on
one worker, and the costliest units start first.

xdist's default (`--dist load`) hands out single tests, so a module whose fixture starts a server
or a browser, or a docs page whose blocks build on each other, was set up on both workers: a
docs block on the second worker re-runs every block of its page before it, Spark included.
(`--dist loadgroup` would do this with `xdist_group` marks, but under pytest 9 its marks no
longer reach the scheduler: it renames `item._nodeid`, which pytest 9 no longer reads.)

A unit of work is:
- the blocks of one docs page (tests/docs/test_docs.py, one test per block);
- the tests under a folder whose conftest.py holds a session-scoped fixture (the dashboard's demo);
- the tests of a module that holds, imports from a tests module, or lies under a conftest.py
  holding a module- or session-scoped fixture;
- else one test.
Units are started in order of `FIRST` (the longest single tests: a worker that takes one last
would leave the other idle), then by their number of tests, largest first.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

ROOT = Path(__file__).resolve().parent.parent
DOCS_BLOCKS = "tests/docs/test_docs.py::test_block_runs["
FIRST = (
    "tests/profile/test_fuzz.py",
    "tests/demo/test_demo.py",
    "tests/fleet/",
    "tests/e2e/test_spark.py",
    "docs:docs/spark.md",
)
"""Units that take a minute or more on a 2-core machine, started before any other."""

_MODULE_FIXTURE = re.compile(r"""scope\s*=\s*["'](module|session)["']""")
_TESTS_IMPORT = re.compile(r"^from (tests(?:\.\w+)+) import", re.MULTILINE)


@functools.cache
def _text(path: str) -> str:
    try:
        return (ROOT / path).read_text()
    except OSError:
        return ""


@functools.cache
def _shares_a_fixture(module: str) -> bool:
    """The module, or a tests module it imports from, declares a module- or session-scoped
    fixture (a session fixture imported into a module is set up once per worker, too)."""
    text = _text(module)
    if _MODULE_FIXTURE.search(text):
        return True
    parts = Path(module).parent.parts
    for depth in range(1, len(parts) + 1):  # a conftest.py the module lies under
        if _MODULE_FIXTURE.search(_text("/".join(parts[:depth]) + "/conftest.py")):
            return True
    for imported in _TESTS_IMPORT.findall(text):
        path = imported.replace(".", "/")
        if _MODULE_FIXTURE.search(_text(f"{path}.py") or _text(f"{path}/__init__.py")):
            return True
    return False


@functools.cache
def _session_folder(module: str) -> str | None:
    """The folder (from tests/ down) whose conftest.py declares a session-scoped fixture, if the
    module lies under one."""
    parts = Path(module).parent.parts
    for depth in range(2, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if re.search(r"""scope\s*=\s*["']session["']""", _text(f"{folder}/conftest.py")):
            return f"{folder}/"
    return None


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to (tests of one unit run on one worker)."""
    if nodeid.startswith(DOCS_BLOCKS):
        page = nodeid[len(DOCS_BLOCKS) :].rsplit(":", 1)[0]
        return f"docs:{page}"
    module = nodeid.split("::", 1)[0]
    folder = _session_folder(module)
    if folder is not None:
        return folder
    if _shares_a_fixture(module):
        return module
    return nodeid


def _rank(unit: str, size: int) -> tuple[int, int]:
    first = next((i for i, prefix in enumerate(FIRST) if unit.startswith(prefix)), len(FIRST))
    return (first, -size)


class SharedSetupScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scope scheduling with `unit_of` as the scope and `_rank` as the order."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._ranked = False

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ranked:  # the first assignment: the queue holds every unit
            units = sorted(self.workqueue.items(), key=lambda kv: _rank(kv[0], len(kv[1])))
            self.workqueue = OrderedDict(units)
            self._ranked = True
        super()._assign_work_unit(node)
