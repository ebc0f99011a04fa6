"""A request body size limit, enforced while the body streams in (Content-Length or not)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.errors import PayloadTooLargeError


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
    """Answer 413 with a JSON error when a request body exceeds `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._reject(send, declared)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, send: Send, size: int | None) -> None:
        body = _error_body(self.limit, size)
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
