"""The binary bodies of log and label uploads (msgpack envelope, Arrow IPC rows, profile bytes).

One log call is one body: the profiles of its windows plus its prediction rows, under a batch id
that the server records, so a retried or spooled body is applied exactly once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pyarrow as pa
import pyarrow.ipc as ipc

from vigil.errors import InvalidInputError, SerializationError

CONTENT_TYPE = "application/vnd.vigil.batch+msgpack"
WIRE_VERSION = 1
_BATCH_ID = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")


def new_batch_id() -> str:
    """A random (version 4) UUID's hex digits: `uuid.uuid4().hex` without the UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


def table_to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class _Drain:
    """A write-only file whose written bytes are taken out piece by piece."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def ipc_chunks(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """The Arrow IPC stream of `reader`, a batch at a time (the same bytes `table_to_ipc` makes
    of the whole table), for a streamed response."""
    drain = _Drain()
    with ipc.new_stream(pa.PythonFile(drain, mode="w"), reader.schema) as writer:
        yield drain.take()
        for batch in reader:
            writer.write_batch(batch)
            yield drain.take()
    yield drain.take()


def ipc_to_table(blob: bytes) -> pa.Table:
    try:
        return ipc.open_stream(pa.py_buffer(blob)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise SerializationError(
            f"the rows are not a valid Arrow IPC stream ({len(blob)} bytes): {exc}"
        ) from exc


def check_batch_id(value: Any) -> str:
    if not isinstance(value, str) or not _BATCH_ID.match(value):
        raise InvalidInputError(
            f"batch_id must be 8 to 64 letters, digits, '_' or '-', got {value!r}", batch_id=value
        )
    return value


@dataclass(frozen=True)
class LogBatch:
    """Profiles (one per window, and per window and segment) and prediction rows from one
    `client.log` call.

    `segments` runs parallel to `profiles`: "" for a profile of the whole traffic, else the
    segment key `"<column>=<value>"`. Empty means every profile is of the whole traffic.
    """

    version: str = ""
    profiles: list[bytes] = field(default_factory=list)
    rows: bytes | None = None
    batch_id: str = field(default_factory=new_batch_id)
    segments: list[str] = field(default_factory=list)

    def segment_of(self, index: int) -> str:
        return self.segments[index] if self.segments else ""

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "v": WIRE_VERSION,
            "kind": "log",
            "batch_id": self.batch_id,
            "version": self.version,
            "profiles": self.profiles,
            "rows": self.rows,
        }
        if any(self.segments):
            body["segments"] = self.segments
        return bytes(msgpack.packb(body, use_bin_type=True))

    @classmethod
    def decode(cls, blob: bytes) -> LogBatch:
        body = _unpack(blob, "log")
        version = body.get("version", "")
        profiles = body.get("profiles", [])
        rows = body.get("rows")
        if not isinstance(version, str) or len(version) > 200:
            raise InvalidInputError(
                f"version must be a string of at most 200 characters, got {version!r}"
            )
        if not isinstance(profiles, list) or not all(isinstance(p, bytes) for p in profiles):
            raise InvalidInputError("profiles must be a list of binary profile blobs")
        if rows is not None and not isinstance(rows, bytes):
            raise InvalidInputError(f"rows must be Arrow IPC bytes, got {type(rows).__name__}")
        segments = body.get("segments", [])
        if not isinstance(segments, list) or not all(isinstance(k, str) for k in segments):
            raise InvalidInputError("segments must be a list of segment keys (strings)")
        if segments and len(segments) != len(profiles):
            raise InvalidInputError(
                f"segments must have one key per profile: {len(segments)} keys "
                f"for {len(profiles)} profiles"
            )
        return cls(version, profiles, rows, check_batch_id(body.get("batch_id")), segments)


@dataclass(frozen=True)
class LabelBatch:
    """Ground-truth labels, joined later to the predictions by id."""

    rows: bytes
    batch_id: str = field(default_factory=new_batch_id)

    def encode(self) -> bytes:
        body = {"v": WIRE_VERSION, "kind": "labels", "batch_id": self.batch_id, "rows": self.rows}
        return bytes(msgpack.packb(body, use_bin_type=True))

    @classmethod
    def decode(cls, blob: bytes) -> LabelBatch:
        body = _unpack(blob, "labels")
        rows = body.get("rows")
        if not isinstance(rows, bytes):
            raise InvalidInputError(f"rows must be Arrow IPC bytes, got {type(rows).__name__}")
        return cls(rows, check_batch_id(body.get("batch_id")))


def _unpack(blob: bytes, kind: str) -> dict[str, Any]:
    try:
        body = msgpack.unpackb(blob, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise SerializationError(
            f"the body ({len(blob)} bytes) is not a msgpack {kind} batch: {exc}"
        ) from exc
    if not isinstance(body, dict):
        raise SerializationError(f"the body must be a msgpack map, got {type(body).__name__}")
    if body.get("v") != WIRE_VERSION or body.get("kind") != kind:
        raise SerializationError(
            f"expected a {kind} batch of wire version {WIRE_VERSION}, "
            f"got kind={body.get('kind')!r} v={body.get('v')!r}"
        )
    return body
