"""The binary form of a DatasetProfile (`DatasetProfile.to_bytes` and `from_bytes` call this).

Layout: magic `VGPF`, format version (uint16, little-endian), CRC-32 of the payload (uint32), then
the payload: zlib-compressed MessagePack of plain values (numbers, strings, bytes of the DataSketches
serialisations). A reader refuses a newer format version, a bad checksum or a malformed payload
with a SerializationError, never a crash or a silently wrong profile.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from typing import Any

import msgpack

from vigil.errors import InvalidInputError, SerializationError
from vigil.profile import state as st
from vigil.profile.columns import StringColumn, column_from_state
from vigil.profile.parts import ProfileFields, ProfileParts, Window
from vigil.profile.sketches import DistinctSketch
from vigil.profile.trust import decoding, remember

MAGIC = b"VGPF"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHI")

MAX_PAYLOAD_BYTES = 256 * 2**20
"""The most a payload may inflate to, whatever its compressed size (a 10,000-column profile of
sketch-heavy columns inflates to about 30 MB)."""
MIN_PAYLOAD_LIMIT = 2**20
MAX_EXPANSION = 64
"""Profiles are mostly incompressible sketches (they inflate 1.5 to 2x; a constant embedding of
4,096 dimensions, 140x, stays under MIN_PAYLOAD_LIMIT). A payload may inflate to
max(MIN_PAYLOAD_LIMIT, MAX_EXPANSION x its compressed size): a few KB of zlib bomb are refused
after 1 MiB."""
MAX_COLUMNS = 100_000
_UNPACK_LIMITS: dict[str, Any] = {
    "raw": False,
    "strict_map_key": True,
    "max_bin_len": 8 * 2**20,  # an embedding's means at its largest dimension
    "max_str_len": 2**20,
    "max_array_len": MAX_COLUMNS,
    "max_map_len": MAX_COLUMNS,
    "max_ext_len": 0,
}
"""MessagePack limits: no container or string larger than a profile of MAX_COLUMNS columns has."""
_PAYLOAD_KEYS = frozenset({"n_rows", "window", "skipped", "columns"})


def encode_profile(profile: ProfileFields) -> bytes:
    # Every count in a column is at most its `count`; refusing larger ones here keeps merges of
    # accepted profiles decodable (and the sketches' uint64 counters from wrapping).
    counts = {"n_rows": profile.n_rows} | {name: c.count for name, c in profile.columns.items()}
    too_big = {name: n for name, n in counts.items() if n > st.MAX_COUNT}
    if too_big:
        raise InvalidInputError(
            f"profile counts {too_big} exceed {st.MAX_COUNT}; a profile holds at most that "
            "many rows (merging these profiles would overflow)",
            counts=sorted(too_big),
        )
    payload = {
        "n_rows": profile.n_rows,
        "window": _window_state(profile.window),
        "skipped": dict(profile.skipped),
        "columns": [
            [name, column.kind.value, column.to_state()] for name, column in profile.columns.items()
        ],
    }
    # Level 1: within 1% of level 6's size on sketch-heavy profiles, in 60% of the time (every
    # upload into a window re-encodes its merged profile).
    body = zlib.compress(msgpack.packb(payload, use_bin_type=True), 1)
    blob = _HEADER.pack(MAGIC, FORMAT_VERSION, zlib.crc32(body)) + body
    remember(blob)
    return blob


def decode_profile(blob: bytes, max_columns: int = MAX_COLUMNS) -> ProfileParts:
    """The fields of the profile in `blob`, checked; SerializationError if they are not one, or
    if it has more than `max_columns` columns (counted before any is built)."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise SerializationError(f"profile bytes must be bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < _HEADER.size:
        raise SerializationError(
            f"profile bytes are truncated: {len(blob)} bytes, fewer than the {_HEADER.size}-byte header"
        )
    magic, version, crc = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise SerializationError(
            f"these bytes are not a Vigil profile (magic {magic!r}, expected {MAGIC!r})"
        )
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"profile format version {version} is newer than this Vigil reads "
            f"(up to {FORMAT_VERSION}); upgrade vigil to read it",
            version=version,
        )
    if version < 1:
        raise SerializationError(f"invalid profile format version {version}", version=version)
    body = blob[_HEADER.size :]
    if zlib.crc32(body) != crc:
        raise SerializationError("profile bytes are corrupt: checksum mismatch")
    try:
        payload = msgpack.unpackb(_inflate(body), **_UNPACK_LIMITS)
        with decoding(blob):
            return _from_payload(payload, max_columns)
    except SerializationError:
        raise
    except Exception as exc:  # malformed structure inside a payload whose checksum matched
        raise SerializationError(
            f"profile bytes are malformed: {type(exc).__name__}: {exc}"
        ) from None


def payload_limit(compressed: int) -> int:
    """The most bytes a payload of `compressed` bytes may inflate to."""
    return min(MAX_PAYLOAD_BYTES, max(MIN_PAYLOAD_LIMIT, MAX_EXPANSION * compressed))


def _inflate(body: bytes) -> bytes:
    """zlib-decompress, refusing to produce more than `payload_limit` bytes."""
    limit = payload_limit(len(body))
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(body, limit)
        if inflater.unconsumed_tail:
            raise SerializationError(
                f"profile payload inflates to more than {limit} bytes (from {len(body)}); "
                f"at most max({MIN_PAYLOAD_LIMIT}, {MAX_EXPANSION} x compressed size) and "
                f"never more than {MAX_PAYLOAD_BYTES} bytes are read",
                limit=limit,
            )
        if not inflater.eof or inflater.unused_data:
            raise SerializationError("profile payload is truncated or has bytes after its end")
    except zlib.error as exc:
        raise SerializationError(f"profile bytes are malformed: not zlib data: {exc}") from None
    return payload


def _from_payload(payload: Any, max_columns: int) -> ProfileParts:
    if type(payload) is not dict:
        raise SerializationError("profile payload is not a mapping")
    entries = payload.get("columns")
    if type(entries) is not list:
        raise SerializationError("profile payload's columns must be a list")
    if len(entries) > max_columns:
        raise SerializationError(
            f"the profile has {len(entries)} columns; at most {max_columns} are read here",
            columns=len(entries),
            limit=max_columns,
        )
    columns = {}
    for entry in entries:
        if type(entry) is not list or len(entry) != 3:
            raise SerializationError("profile payload has a malformed column entry")
        name, kind, state = entry
        if type(name) is not str or type(kind) is not str or type(state) is not dict:
            raise SerializationError("profile payload has a malformed column entry")
        try:
            columns[name] = column_from_state(kind, state)
        except SerializationError as exc:
            raise SerializationError(
                f"column {name[:100]!r}: {exc.message}", column=name[:100], **exc.details
            ) from None
    if set(payload) != _PAYLOAD_KEYS:
        raise SerializationError(
            f"profile payload has keys {sorted(map(str, payload))[:10]}, "
            f"expected {sorted(_PAYLOAD_KEYS)}"
        )
    DistinctSketch.verify_all(
        (name[:100], c.distinct_sketch)
        for name, c in columns.items()
        if isinstance(c, StringColumn)
    )
    skipped = payload["skipped"]
    if type(skipped) is not dict:
        raise SerializationError("profile payload's skipped columns must be a mapping")
    return ProfileParts(
        columns=columns,
        n_rows=st.count_value(payload["n_rows"], "n_rows"),
        window=_window_from_state(payload["window"]),
        skipped={
            st.text_value(k, "skipped"): st.text_value(v, "skipped") for k, v in skipped.items()
        },
    )


def _window_state(window: Window | None) -> list[str] | None:
    if window is None:
        return None
    return [window.start.isoformat(), window.end.isoformat()]


def _window_from_state(state: Any) -> Window | None:
    if state is None:
        return None
    if type(state) is not list or len(state) != 2:
        raise SerializationError("profile window must be [start, end]")
    start, end = (dt.datetime.fromisoformat(st.text_value(v, "window", at_most=64)) for v in state)
    return Window(start, end)
