"""Bounded work per request: the body size limit (enforced while the body streams in), the
time limit of every request, and the guard that interrupts a late request's SQL."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.deadline import DEADLINE, expired
from vigil.errors import (
    BodyTimeoutError,
    PayloadTooLargeError,
    TimeLimitError,
    UnsupportedEncodingError,
    VigilError,
)

logger = logging.getLogger("vigil.server")
SQLITE_PROGRESS_STEPS = 10_000  # SQLite VM instructions between two deadline checks


class BodyTooLargeError(HTTPException):
    """Raised from `receive` when a streamed body passes the limit.

    An HTTPException, because FastAPI turns any other error while reading a body into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, json.loads(_error_body(limit, None))["message"])


def _error_body(limit: int, size: int | None) -> bytes:
    given = f"{size} bytes" if size is not None else "more than that"
    error = PayloadTooLargeError(
        f"the request body is {given}; the server accepts at most {limit} bytes "
        "(split the batch, or raise VIGIL_MAX_REQUEST_BYTES)",
        limit=limit,
    )
    return json.dumps(error.to_dict()).encode()


class BodySizeLimit:
    """Answer 413 with a JSON error when a request body exceeds `limit()` bytes (read per request
    from the app's settings, so a test's settings override applies)."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _reject(send, limit, declared)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _reject(send: Send, limit: int, size: int | None) -> None:
    body = _error_body(limit, size)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_PLAIN_ENCODINGS = frozenset({b"", b"identity"})


async def _send_error(send: Send, error: VigilError) -> None:
    body = json.dumps(error.to_dict()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestTimeLimit:
    """Give every request `seconds` until its answer starts, and refuse compressed bodies.

    Past the limit the client gets a 504 JSON error naming it (a 408 when the server was waiting
    for the request's body at that moment: a slow or stalled upload), and the request's work is
    cancelled: awaiting code stops at once; work in the thread pool cannot be killed, but its SQL
    is interrupted by `guard_queries` and loops that call `vigil.deadline.check` stop. A streaming
    answer that started in time runs to its end. A late 5xx (the interrupted query's error) is
    replaced by the time-limit error, so the client learns which limit it hit.

    The request runs in its own (the server's) task under a timer (`loop.call_later`): at the
    limit, a request whose answer has not started is cancelled and answered with the error. (A
    task per request and `asyncio.wait` on it cost the event loop more on every request.)
    """

    def __init__(self, app: ASGIApp, seconds: Callable[[], float]) -> None:
        self.app = app
        self.seconds = seconds  # read per request from the app's settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seconds = self.seconds()
        for name, value in scope.get("headers", []):
            if name == b"content-encoding" and value.strip().lower() not in _PLAIN_ENCODINGS:
                shown = value.decode("latin-1")[:100]
                await _send_error(
                    send,
                    UnsupportedEncodingError(
                        f"the request body has Content-Encoding {shown!r}; the server reads only "
                        "uncompressed bodies (send it without Content-Encoding)",
                        content_encoding=shown,
                    ),
                )
                return
        deadline = time.monotonic() + seconds
        state = {
            "started": False,
            "answered": False,
            "waiting_for_body": False,
            "expired": False,
            "body_late": False,  # the request was waiting for its body when it expired
        }

        async def timed_receive() -> Message:
            state["waiting_for_body"] = True
            try:
                return await receive()
            finally:
                state["waiting_for_body"] = False

        async def timed_send(message: Message) -> None:
            if state["answered"]:
                return  # the time-limit error went out instead
            if message["type"] == "http.response.start":
                if int(message["status"]) >= 500 and time.monotonic() >= deadline:
                    await _timed_out(send, state, seconds)
                    return
                state["started"] = True
            await send(message)

        task = asyncio.current_task()
        assert task is not None  # an ASGI app is called from a task

        def expire() -> None:
            if state["started"] or state["answered"]:
                return  # the answer started in time: it runs to its end
            state["expired"] = True
            state["body_late"] = state["waiting_for_body"]
            task.cancel()  # awaiting code stops at once

        timer = asyncio.get_running_loop().call_later(seconds, expire)
        token = DEADLINE.set(deadline)
        try:
            await self.app(scope, timed_receive, timed_send)
        except asyncio.CancelledError:
            # Only this timer's cancellation is answered here; any other (the server shutting
            # down, also after the timer) goes on up.
            if not state["expired"] or task.uncancel() > 0:
                raise
        except Exception as exc:
            if not state["expired"]:
                raise
            task.uncancel()  # the request's work turned the cancellation into an error
            logger.info("a request past its time limit then failed: %r", exc)
        else:
            if state["expired"]:
                task.uncancel()  # the request's work caught the cancellation
        finally:
            timer.cancel()
            DEADLINE.reset(token)
        if state["expired"] and not (state["started"] or state["answered"]):
            state["waiting_for_body"] = state["body_late"]  # as it was at the limit
            await _timed_out(send, state, seconds)


async def _timed_out(send: Send, state: dict[str, bool], seconds: float) -> None:
    state["answered"] = True
    limit = f"{seconds:g} s"
    error: TimeLimitError
    if state["waiting_for_body"]:
        error = BodyTimeoutError(
            f"the request body did not arrive within the time limit of {limit}",
            limit_seconds=seconds,
        )
    else:
        error = TimeLimitError(
            f"the request did not finish within the time limit of {limit} "
            "(ask for less: a smaller range, page or batch; VIGIL_REQUEST_TIMEOUT_SECONDS "
            "sets the limit)",
            limit_seconds=seconds,
        )
    await _send_error(send, error)


def _interrupt_when_late() -> int:
    """SQLite progress handler: non-zero aborts the running statement ('interrupted')."""
    return 1 if expired() else 0


def _guard_sqlite(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    dbapi_connection.set_progress_handler(_interrupt_when_late, SQLITE_PROGRESS_STEPS)


def guard_queries(engine: Engine, seconds: float) -> None:
    """Bound each request's SQL by its time limit.

    SQLite: every statement run inside a request checks the request's deadline every few
    thousand instructions and stops past it (outside requests, e.g. the scheduler, no limit).
    PostgreSQL: `statement_timeout` of `seconds` on the server's connections.
    """
    if engine.dialect.name == "sqlite":
        if not event.contains(engine, "checkout", _guard_sqlite):
            event.listen(engine, "checkout", _guard_sqlite)
    elif engine.dialect.name == "postgresql":
        milliseconds = max(1, int(seconds * 1000))

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET statement_timeout = {milliseconds}")
            cursor.close()
            dbapi_connection.commit()

        engine.dispose()  # connections opened before (migrations) are replaced by guarded ones
