"""`RequestTimeLimit` runs a request in the server's own task under a timer: the answers and the
cancellations it gives, checked on bare ASGI apps (no framework in between)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.waits import patience
from vigil.deadline import DEADLINE
from vigil.server.limits import RequestTimeLimit

LIMIT = 0.05  # seconds; every app below either answers at once or waits far longer
LONG = 3600.0

App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _scope() -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": []}


async def _run(
    app: App, *, body_arrives: bool = True
) -> tuple[list[Message], BaseException | None]:
    """Call `app` under the limit as a server does (in a task); the messages sent and what the
    call raised."""
    sent: list[Message] = []

    async def receive() -> Message:
        if body_arrives:
            return {"type": "http.request", "body": b"x", "more_body": False}
        await asyncio.sleep(LONG)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    limited = RequestTimeLimit(app, seconds=lambda: LIMIT)
    task = asyncio.ensure_future(limited(_scope(), receive, send))
    try:
        await asyncio.wait_for(asyncio.shield(task), patience(30))
    except BaseException as exc:  # what the request raised, for the test to check
        return sent, exc
    return sent, None


def _status(sent: list[Message]) -> int:
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    return int(start["status"])


async def _answer(send: Send, status: int = 200, body: bytes = b"{}") -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_a_late_request_is_answered_504_and_its_awaiting_work_is_cancelled() -> None:
    cancelled: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(LONG)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        await _answer(send)

    sent, raised = asyncio.run(_run(app))
    assert raised is None
    assert _status(sent) == 504
    assert b"time limit" in sent[-1]["body"]
    assert cancelled == [True]


def test_a_request_waiting_for_its_body_at_the_limit_is_answered_408() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await _answer(send)

    sent, raised = asyncio.run(_run(app, body_arrives=False))
    assert raised is None
    assert _status(sent) == 408


@pytest.mark.parametrize("then", ["returns", "raises"])
def test_work_that_catches_the_cancellation_still_gets_the_time_limit_answer(then: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(LONG)
        except asyncio.CancelledError:
            if then == "raises":
                raise RuntimeError("the query was interrupted") from None
            return

    sent, raised = asyncio.run(_run(app))
    assert raised is None
    assert _status(sent) == 504
    assert len([m for m in sent if m["type"] == "http.response.start"]) == 1


def test_an_answer_started_in_time_runs_to_its_end() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(LIMIT * 4)  # past the limit, the answer has started
        await send({"type": "http.response.body", "body": b"done"})

    sent, raised = asyncio.run(_run(app))
    assert raised is None
    assert _status(sent) == 200
    assert sent[-1]["body"] == b"done"


def test_a_5xx_after_the_deadline_becomes_the_time_limit_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(LONG)
        except asyncio.CancelledError:
            await _answer(send, 500, b'{"error": "internal_error"}')

    sent, raised = asyncio.run(_run(app))
    assert raised is None
    assert _status(sent) == 504


def test_a_quick_request_is_answered_as_it_answers_and_sees_its_deadline() -> None:
    seen: list[float | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(DEADLINE.get())
        await _answer(send, 201)

    sent, raised = asyncio.run(_run(app))
    assert raised is None
    assert _status(sent) == 201
    assert seen[0] is not None
    assert DEADLINE.get() is None  # reset once the request ended


def test_a_cancellation_from_outside_goes_on_up() -> None:
    """The server shutting down cancels the request's task: that is not answered here."""

    async def main() -> tuple[list[Message], BaseException | None]:
        sent: list[Message] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await asyncio.sleep(LONG)

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        limited = RequestTimeLimit(app, seconds=lambda: LONG)
        task = asyncio.ensure_future(limited(_scope(), receive, send))
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            return sent, exc
        return sent, None

    sent, raised = asyncio.run(main())
    assert isinstance(raised, asyncio.CancelledError)
    assert sent == []


def test_the_server_shutting_down_after_the_limit_still_cancels_the_request() -> None:
    """A second cancellation (shutdown) while the timed-out request unwinds is not swallowed."""

    async def main() -> BaseException | None:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await asyncio.sleep(LONG)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                assert current is not None
                current.cancel()  # the shutdown arrives now
                raise

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        limited = RequestTimeLimit(app, seconds=lambda: LIMIT)
        task: asyncio.Future[Any] = asyncio.ensure_future(limited(_scope(), receive, send))
        try:
            await asyncio.wait_for(asyncio.shield(task), patience(30))
        except asyncio.CancelledError as exc:
            return exc
        return None

    assert isinstance(asyncio.run(main()), asyncio.CancelledError)
