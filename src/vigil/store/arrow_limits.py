"""Bounds on an Arrow IPC stream from a client, checked on its metadata before any decoding.

An IPC stream says in each message's header how many rows it holds, how many values each
column has and, when its buffers are compressed (LZ4 or ZSTD), how large each buffer becomes.
`check_stream` reads those headers (flatbuffers, parsed here with bounds checks: no native code
sees them first) and refuses a stream past the limits, so a few kilobytes can never make the
server allocate gigabytes: not by a row count, not by nested values, not by decompression.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.ipc as ipc

from vigil.errors import PayloadTooLargeError, SerializationError

# Message.header_type values (Arrow's Message.fbs)
_SCHEMA, _DICTIONARY_BATCH, _RECORD_BATCH = 1, 2, 3
_NODE = struct.Struct("<qq")  # FieldNode {length, null_count}
_BUFFER = struct.Struct("<qq")  # Buffer {offset, length}
MAX_MESSAGES = 10_000  # record and dictionary batches in one stream
BUFFERS_PER_FIELD = 4  # validity, offsets, data, and room for a view type's variadic buffers


@dataclass(frozen=True)
class RowLimits:
    """What one upload's rows may hold."""

    max_rows: int
    max_columns: int
    max_bytes: int  # buffers once decoded (decompressed)

    @property
    def max_values(self) -> int:
        """Values over all columns and nested fields: what a flat table within limits holds."""
        return self.max_rows * self.max_columns


class _Table:
    """A flatbuffers table in `data` at `pos`, read with bounds checks."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos
        vtable = pos - _unpack("<i", data, pos)
        self.vtable = vtable
        self.vtable_size = _unpack("<H", data, vtable)

    def _field(self, index: int) -> int:
        slot = 4 + 2 * index
        if slot + 2 > self.vtable_size:
            return 0
        offset = _unpack("<H", self.data, self.vtable + slot)
        return self.pos + offset if offset else 0

    def scalar(self, index: int, fmt: str, default: int = 0) -> int:
        at = self._field(index)
        return _unpack(fmt, self.data, at) if at else default

    def has(self, index: int) -> bool:
        return self._field(index) != 0

    def table(self, index: int) -> _Table | None:
        at = self._field(index)
        return _Table(self.data, at + _unpack("<I", self.data, at)) if at else None

    def vector(self, index: int, item_size: int) -> tuple[int, int]:
        """(start of the items, number of items) of a vector of structs, (0, 0) when absent."""
        at = self._field(index)
        if not at:
            return 0, 0
        start = at + _unpack("<I", self.data, at)
        count = _unpack("<I", self.data, start)
        if start + 4 + count * item_size > len(self.data):
            raise SerializationError(f"an Arrow IPC header's vector of {count} items overruns it")
        return start + 4, count


def _unpack(fmt: str, data: bytes, pos: int) -> int:
    if pos < 0:
        raise SerializationError("an Arrow IPC header points outside itself")
    try:
        value: int = struct.unpack_from(fmt, data, pos)[0]
    except struct.error as exc:
        raise SerializationError("an Arrow IPC header points outside itself") from exc
    return value


def check_stream(blob: bytes, limits: RowLimits) -> None:
    """Refuse (413) an IPC stream holding more rows, columns, values or decoded bytes than
    `limits` allow, or (422) one whose headers are malformed; reads headers only."""
    rows = values = decoded = 0
    try:
        reader = ipc.MessageReader.open_stream(pa.py_buffer(blob))
        for n_messages, message in enumerate(reader):
            if n_messages > MAX_MESSAGES:
                raise PayloadTooLargeError(
                    f"the rows come in more than {MAX_MESSAGES} Arrow IPC messages; "
                    "combine their chunks (table.combine_chunks()) or split the upload",
                    limit=MAX_MESSAGES,
                )
            meta = message.metadata.to_pybytes()
            root = _Table(meta, _unpack("<I", meta, 0))
            kind = root.scalar(1, "<B")
            header = root.table(2)
            if header is None:
                continue
            if kind == _SCHEMA:
                _, fields = header.vector(1, 4)
                if fields > limits.max_columns:
                    raise PayloadTooLargeError(
                        f"the rows have {fields} columns; an upload takes at most "
                        f"{limits.max_columns} (VIGIL_MAX_BATCH_COLUMNS)",
                        columns=fields,
                        limit=limits.max_columns,
                    )
                continue
            if kind == _DICTIONARY_BATCH:
                header = header.table(1)
                if header is None:
                    continue
            elif kind != _RECORD_BATCH:
                continue
            length = header.scalar(0, "<q")
            if length < 0:
                raise SerializationError(f"an Arrow IPC record batch has length {length}")
            if kind == _RECORD_BATCH:
                rows += length
            start, count = header.vector(1, _NODE.size)
            if count > limits.max_columns:
                raise PayloadTooLargeError(
                    f"the rows have {count} columns and nested fields; an upload takes at most "
                    f"{limits.max_columns} (VIGIL_MAX_BATCH_COLUMNS)",
                    columns=count,
                    limit=limits.max_columns,
                )
            for i in range(count):
                node_length = _NODE.unpack_from(meta, start + i * _NODE.size)[0]
                if node_length < 0:
                    raise SerializationError(f"an Arrow IPC field has length {node_length}")
                values += node_length
            decoded += _decoded_size(header, message.body, count * BUFFERS_PER_FIELD)
            _check_totals(rows, values, decoded, limits)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise SerializationError(
            f"the rows are not a valid Arrow IPC stream ({len(blob)} bytes): {exc}"
        ) from exc


def _decoded_size(header: _Table, body: pa.Buffer | None, max_buffers: int) -> int:
    """Bytes the batch's buffers take once decoded: as sent, or as declared by each compressed
    buffer's 8-byte length prefix (Arrow allocates that much, then decompresses into it)."""
    start, count = header.vector(2, _BUFFER.size)
    if count > max_buffers:
        raise SerializationError(
            f"an Arrow IPC record batch lists {count} buffers for its fields (at most "
            f"{max_buffers})"
        )
    compressed = header.has(3)
    raw = memoryview(body) if compressed and body is not None else memoryview(b"")
    total = 0
    for i in range(count):
        offset, length = _BUFFER.unpack_from(header.data, start + i * _BUFFER.size)
        if offset < 0 or length < 0:
            raise SerializationError("an Arrow IPC buffer has a negative offset or length")
        if not compressed or length == 0:
            total += length
            continue
        if length < 8 or offset + 8 > len(raw):
            raise SerializationError("an Arrow IPC compressed buffer lacks its length prefix")
        declared = struct.unpack_from("<q", raw, offset)[0]
        total += length - 8 if declared == -1 else max(declared, 0)
    return total


def _check_totals(rows: int, values: int, decoded: int, limits: RowLimits) -> None:
    if rows > limits.max_rows:
        raise PayloadTooLargeError(
            f"the upload has more than {limits.max_rows} rows (at least {rows}); split it "
            "(VIGIL_MAX_BATCH_ROWS)",
            rows=rows,
            limit=limits.max_rows,
        )
    if values > limits.max_values:
        raise PayloadTooLargeError(
            f"the rows hold {values} values over their columns and nested fields; an upload "
            f"takes at most {limits.max_values} (rows x columns limits)",
            values=values,
            limit=limits.max_values,
        )
    if decoded > limits.max_bytes:
        raise PayloadTooLargeError(
            f"the rows decode to more than {limits.max_bytes} bytes (at least {decoded}); "
            "send them uncompressed or in smaller uploads (VIGIL_MAX_REQUEST_BYTES)",
            decoded_bytes=decoded,
            limit=limits.max_bytes,
        )
