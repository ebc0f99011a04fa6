"""Progress bars for long work, on stderr, only when a person is watching.

A bar is shown when stderr is a terminal, unless `progress=False` is passed or the environment
says `VIGIL_PROGRESS=0`; `VIGIL_PROGRESS=1` shows it even without a terminal (a notebook's
stderr, a CI log that wants it). Bars never write to stdout, so piped output stays clean.

>>> for window in track(windows, desc="evaluating", unit="window"):   # doctest: +SKIP
...     evaluate(window)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"1", "true", "yes", "on"})


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a bar: `progress=False` never; `VIGIL_PROGRESS` 0 or 1 decides next;
    otherwise only when stderr is a terminal."""
    if progress is False:
        return False
    setting = os.environ.get("VIGIL_PROGRESS", "").strip().lower()
    if setting in _OFF:
        return False
    if setting in _ON:
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class Bar:
    """A bar's handle: `update(n)` adds done units; `describe(text)` changes its label."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar

    def update(self, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(text)


@contextmanager
def bar(
    *, total: float | None, desc: str, unit: str = "it", progress: bool | None = None
) -> Iterator[Bar]:
    """A bar over `total` units (None: a counter), closed and cleared when the block ends."""
    if not progress_enabled(progress):
        yield Bar(None)
        return
    from tqdm.auto import tqdm

    shown = tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True
    )
    try:
        yield Bar(shown)
    finally:
        shown.close()


def track(
    items: Iterable[T],
    *,
    desc: str,
    total: float | None = None,
    unit: str = "it",
    progress: bool | None = None,
) -> Iterator[T]:
    """`items`, one by one, with a bar (its length is taken from `items` when it has one)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with bar(total=total, desc=desc, unit=unit, progress=progress) as shown:
        for item in items:
            yield item
            shown.update()
