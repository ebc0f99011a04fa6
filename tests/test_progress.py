"""Progress bars: on stderr when a person watches, never on stdout, off on request."""

from __future__ import annotations

import io

import pytest

from vigil.progress import bar, progress_enabled, track


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "tty", "argument", "expected"),
    [
        (None, True, None, True),  # a terminal: shown
        (None, False, None, False),  # piped or captured: not shown
        ("0", True, None, False),  # VIGIL_PROGRESS=0 wins over a terminal
        ("1", False, None, True),  # VIGIL_PROGRESS=1 shows it anyway
        ("1", True, False, False),  # progress=False wins over everything
        (None, True, True, True),
    ],
)
def test_when_a_bar_is_shown(
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    tty: bool,
    argument: bool | None,
    expected: bool,
) -> None:
    if env is None:
        monkeypatch.delenv("VIGIL_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("VIGIL_PROGRESS", env)
    monkeypatch.setattr("sys.stderr", _Terminal() if tty else io.StringIO())
    assert progress_enabled(argument) is expected


def test_a_bar_writes_to_stderr_only_and_yields_every_item(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    assert list(track(range(5), desc="windows")) == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "windows" in captured.err
    assert "/5 " in captured.err  # a bar over the five items


def test_off_means_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    with bar(total=3, desc="quiet", progress=False) as shown:
        shown.update(3)
    assert list(track([1, 2], desc="quiet", progress=False)) == [1, 2]
    assert capsys.readouterr().err == ""
