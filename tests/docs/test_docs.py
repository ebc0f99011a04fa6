"""Every Python and shell block of README.md and docs/*.md runs, and succeeds (tests/docs/blocks.py
says how a block is marked; docs/development.md says it for people)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.blocks import Block, all_blocks
from tests.docs.runner import Runner

BLOCKS = all_blocks()


def _params() -> list[object]:
    """One test per block that runs; a block that needs a server or Spark, and every later block
    of its page (they build on it), is slow. A block marked skip (it cannot run by nature: it
    serves until Ctrl-C, it is `make test` itself) is no test at all, so nothing is skipped in
    CI; test_blocks.py keeps such blocks few and each with its reason."""
    params: list[object] = []
    slow_pages: set[Path] = set()
    for block in BLOCKS:
        if block.skip is not None:
            continue
        if block.needs:
            slow_pages.add(block.path)
        marks = [pytest.mark.slow] if block.path in slow_pages else []
        params.append(pytest.param(block, id=block.id, marks=marks))
    return params


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    running = Runner(tmp_path_factory.mktemp("docs"))
    yield running
    running.close()


@pytest.mark.parametrize("block", _params())
def test_block_runs(block: Block, runner: Runner) -> None:
    runner.run(block, BLOCKS)
