"""The runnable code blocks of the documentation: fenced ```python, ```bash, ```sh, ```shell and
```console blocks of README.md and docs/*.md, each with the marker on the line before its fence.

A marker is an HTML comment, invisible on GitHub:

    <!-- docs-test: server -->                  a live Vigil server (VIGIL_URL, VIGIL_TOKEN)
    <!-- docs-test: spark -->                   a local Spark session (Java, pyspark)
    <!-- docs-test: skip reason="why" -->       not run: it cannot run by nature (the reason says why)
    <!-- docs-test: file="monitors.yaml" -->    any block: its text is saved as that file, for the
                                                blocks after it (what a reader saves by hand)

Other blocks (```text, ```yaml, ```json, a bare ```) are not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh", "shell", "console"})
NEEDS = frozenset({"server", "spark"})
"""What a marker can ask the test to start for a block."""

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:(?P<body>.*?)-->\s*$")
_SKIP = re.compile(r'skip\s+reason="(?P<reason>[^"]+)"')
_FILE = re.compile(r'file="(?P<name>\w[\w.-]*(?:/\w[\w.-]*)*)"')


class MarkerError(ValueError):
    """A docs-test marker the harness does not understand (a typo must not silently run nothing)."""


@dataclass(frozen=True, repr=False)
class Block:
    """One fenced block: where it is, its language, its code, and what its marker asks for."""

    path: Path
    line: int  # the line of the opening fence, 1-based
    lang: str
    code: str
    needs: frozenset[str] = field(default_factory=frozenset)
    skip: str | None = None  # the reason, when the block is not run
    file: str | None = None  # saved as this file (relative to the page's folder) instead of run

    def __repr__(self) -> str:
        return f"Block({self.id})"

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON

    def script(self) -> str:
        """The code to run: a console block's `$ ` lines only (the rest is output shown)."""
        if self.lang != "console":
            return self.code
        return "\n".join(line[2:] for line in self.code.splitlines() if line.startswith("$ "))


def parse_marker(text: str) -> tuple[frozenset[str], str | None, str | None]:
    """The needs, the skip reason and the file name of a marker's body: `server`,
    `skip reason="..."`, `file="name"`."""
    skip = _SKIP.search(text)
    file = _FILE.search(text)
    rest = _FILE.sub("", _SKIP.sub("", text))
    words = frozenset(w for w in re.split(r"[\s,]+", rest) if w)
    unknown = words - NEEDS
    if unknown:
        raise MarkerError(
            f"unknown docs-test marker {sorted(unknown)} in {text.strip()!r}: "
            f'use {sorted(NEEDS)} or skip reason="..."'
        )
    return words, (skip.group("reason") if skip else None), (file.group("name") if file else None)


def blocks_of(path: Path, text: str | None = None) -> list[Block]:
    """The runnable blocks of one Markdown file, in order."""
    lines = (path.read_text() if text is None else text).splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if _MARKER.match(lines[i]) and not (i + 1 < len(lines) and _FENCE.match(lines[i + 1])):
                raise MarkerError(f"{path}:{i + 1}: a docs-test marker must precede a fence")
            i += 1
            continue
        start = i
        indent = len(fence.group("indent"))
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            i += 1
        if i == len(lines):
            raise MarkerError(f"{path}:{start + 1}: a fence that is never closed")
        lang = fence.group("lang").lower()
        marker = _MARKER.match(lines[start - 1]) if start else None
        needs, skip, file = (
            parse_marker(marker.group("body")) if marker else (frozenset(), None, None)
        )
        if lang in PYTHON | SHELL or file is not None:
            code = "\n".join(line[indent:] for line in lines[start + 1 : i])
            out.append(Block(path, start + 1, lang, code, needs, skip, file))
        i += 1
    return out


def documents() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks_of(path)]
