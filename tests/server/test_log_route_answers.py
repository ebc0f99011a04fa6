"""The log route's `notify` for small uploads handed to the writer thread: each event loop among
a group's uploads is woken once and answers every one of its uploads; a loop already closed is
logged, not raised (its uploads are written; no one waits for them)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any, cast

import pytest

from vigil.ingestion.checks import CheckedLog
from vigil.ingestion.group_commit import Queued
from vigil.server.routers import ingest


def _queued(answer: asyncio.Future[Any]) -> Queued:
    return Queued(cast(CheckedLog, None), contextvars.copy_context(), ingest._written, answer)


def test_each_loop_is_woken_once_and_answers_its_uploads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        wakes: list[asyncio.AbstractEventLoop] = []
        for loop in loops:
            wake = loop.call_soon_threadsafe

            def counted(
                *args: Any, loop: asyncio.AbstractEventLoop = loop, wake: Any = wake
            ) -> Any:
                wakes.append(loop)
                return wake(*args)

            monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
        answers = [loops[0].create_future(), loops[1].create_future(), loops[0].create_future()]
        batches = [_queued(answer) for answer in answers]
        answers[2].cancel()  # its client went away: the others are answered all the same
        ingest._written(batches)
        assert sorted(map(id, wakes)) == sorted(map(id, loops))
        for loop in loops:
            loop.run_until_complete(asyncio.sleep(0))
        assert answers[0].result() is batches[0]
        assert answers[1].result() is batches[1]
        assert answers[2].cancelled()
    finally:
        for loop in loops:
            loop.close()


def test_a_closed_loop_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    answer = loop.create_future()
    loop.close()
    with caplog.at_level(logging.WARNING, logger="vigil.server"):
        ingest._written([_queued(answer)])
    assert "1 written log batch(es) could not be answered" in caplog.text
