"""Every Python and shell block of README.md and docs/*.md runs, and succeeds (tests/docs/blocks.py
says how a block is marked; docs/development.md says it for people)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, Block, all_blocks
from tests.docs.runner import Runner

BLOCKS = all_blocks()


@dataclass(frozen=True)
class Part:
    """Blocks of one page run by one test: up to and including `last` (the runner catches the
    page up to it). A page is one part, or two when it has a server or Spark block: the blocks
    before the first such block, and the rest (slow)."""

    last: Block
    slow: bool

    @property
    def id(self) -> str:
        page = self.last.path.relative_to(ROOT).as_posix()
        return f"{page}:slow" if self.slow else page


def parts(blocks: list[Block]) -> list[Part]:
    """A page per test (so a page's set-up, a server or a Spark session, runs once, on one
    worker), its quick blocks apart from its slow ones (left out of `make test-fast`). A block
    marked skip (it cannot run by nature: it serves until Ctrl-C, it is `make test` itself) is
    not run at all; test_blocks.py keeps such blocks few and each with its reason."""
    pages: dict[Path, list[Block]] = {}
    for block in blocks:
        if block.skip is None:
            pages.setdefault(block.path, []).append(block)
    found: list[Part] = []
    for page in pages.values():
        first_slow = next((i for i, b in enumerate(page) if b.needs), None)
        quick = page if first_slow is None else page[:first_slow]
        if quick:
            found.append(Part(quick[-1], slow=False))
        if first_slow is not None:
            found.append(Part(page[-1], slow=True))
    return found


def _params() -> list[object]:
    return [
        pytest.param(part, id=part.id, marks=[pytest.mark.slow] if part.slow else [])
        for part in parts(BLOCKS)
    ]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    running = Runner(tmp_path_factory.mktemp("docs"))
    yield running
    running.close()


@pytest.mark.parametrize("part", _params())
def test_page_runs(part: Part, runner: Runner) -> None:
    runner.run(part.last, BLOCKS)


def test_a_page_splits_at_its_first_server_or_spark_block() -> None:
    page = ROOT / "docs" / "example.md"
    quick = Block(page, 3, "python", "x = 1")
    after = Block(page, 20, "python", "y = x + 1")
    server = Block(page, 9, "bash", "vigil models list", needs=frozenset({"server"}))
    skipped = Block(page, 30, "sh", "vigil server", skip="serves until Ctrl-C")
    other = Block(ROOT / "README.md", 5, "python", "y = 2")
    found = parts([quick, server, after, skipped, other])
    assert [(p.id, p.last.line) for p in found] == [
        ("docs/example.md", 3),
        ("docs/example.md:slow", 20),
        ("README.md", 5),
    ]
    only_slow = parts([server, after])
    assert [(p.id, p.last.line) for p in only_slow] == [("docs/example.md:slow", 20)]
